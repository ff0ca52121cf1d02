#include "mhd_shim.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

struct MHD_Daemon *purser_mhd_start(const struct purser_mhd_config *c) {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    const struct sockaddr *addr;
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    if (inet_pton(AF_INET, c->host, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(c->port);
        addr = (const struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, c->host, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(c->port);
        addr = (const struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        return NULL;
    }
    return MHD_start_daemon(
        flags, c->port, NULL, NULL, c->handler, c->handler_cls,
        MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_THREAD_POOL_SIZE, c->threads,
        MHD_OPTION_CONNECTION_LIMIT, c->connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, c->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, c->connection_memory_limit,
        MHD_OPTION_NOTIFY_COMPLETED, c->completed, c->completed_cls,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
        MHD_OPTION_END);
}

uint16_t purser_mhd_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

int purser_mhd_client_address(struct MHD_Connection *connection, char *out, size_t size) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return -1;
    const struct sockaddr *addr = info->client_addr;
    if (addr->sa_family == AF_INET) {
        /* inet_ntop goes through sprintf; this runs for every request, so format the octets here. */
        const unsigned char *octets = (const unsigned char *)&((const struct sockaddr_in *)addr)->sin_addr;
        size_t at = 0;
        if (size < 16) return -1;
        for (int i = 0; i < 4; i++) {
            unsigned v = octets[i];
            if (v >= 100) out[at++] = (char)('0' + v / 100);
            if (v >= 10) out[at++] = (char)('0' + v / 10 % 10);
            out[at++] = (char)('0' + v % 10);
            out[at++] = i < 3 ? '.' : '\0';
        }
        return 0;
    }
    if (addr->sa_family == AF_INET6) {
        return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, out, (socklen_t)size) ? 0 : -1;
    }
    return -1;
}
