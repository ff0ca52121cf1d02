// Starts a libmicrohttpd daemon: MHD_start_daemon is variadic, which Swift cannot call.
#pragma once
#include <microhttpd.h>
#include <stdint.h>

/// What `purser_mhd_start` needs; every field is copied before it returns.
struct purser_mhd_config {
    /// Numeric IPv4 or IPv6 address to bind ("127.0.0.1", "::1", "0.0.0.0").
    const char *host;
    /// Port to bind; 0 lets the kernel choose (read it back with `purser_mhd_port`).
    uint16_t port;
    /// Threads in libmicrohttpd's epoll pool.
    unsigned int threads;
    unsigned int connection_limit;
    /// Seconds a connection may stay idle before it is closed.
    unsigned int connection_timeout;
    /// Largest memory a connection may use for headers and its read buffer.
    size_t connection_memory_limit;
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    MHD_RequestCompletedCallback completed;
    void *completed_cls;
};

/// Starts the daemon in epoll thread-pool mode with suspend/resume allowed.
/// Returns NULL when the address does not parse or cannot be bound.
struct MHD_Daemon *purser_mhd_start(const struct purser_mhd_config *config);

/// The port the daemon listens on, or 0 if it cannot be told.
uint16_t purser_mhd_port(struct MHD_Daemon *daemon);

/// Writes the peer's numeric address into `out` (at least 46 bytes); returns 0 on success.
/// MHD_get_connection_info is variadic.
int purser_mhd_client_address(struct MHD_Connection *connection, char *out, size_t size);
