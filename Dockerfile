# Purser in a container: build with the official Swift image on Debian 12, run on slim Debian 12.
#   docker build -t purser .
#   docker run -e DATABASE_URL=postgres://… -p 8080:8080 purser            # purser serve
#   docker run -e DATABASE_URL=postgres://… purser migrate

# Swift 6.2 or newer: some dependencies declare swift-tools-version 6.2.
FROM swift:6.2-bookworm AS builder
# The build libraries of scripts/packages-build.txt (PostgreSQL itself is not needed to build).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends \
       libmicrohttpd-dev libpq-dev libcurl4-openssl-dev libargon2-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Dependencies first, so that changing a source file does not fetch them again.
COPY Package.* ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product purser --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/purser" /staging/bin/purser
COPY Templates /staging/Templates
COPY Public /staging/Public
COPY migrations /staging/migrations

FROM debian:bookworm-slim
# The runtime halves of the -dev packages above; curl for the health check; the OpenSSH client
# through which Purser reaches GPU hosts.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends \
       libmicrohttpd12 libpq5 libcurl4 libargon2-1 ca-certificates curl openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin purser
COPY --from=builder /staging /app
WORKDIR /app
USER purser
# Listen on every address inside the container. /metrics has a port of its own:
# publish 9464 to the monitoring network only, never to the public.
ENV PURSER_ROOT=/app \
    PURSER_LISTEN=0.0.0.0:8080 \
    PURSER_METRICS_LISTEN=0.0.0.0:9464
EXPOSE 8080 9464
# Liveness only: /healthz never touches the database. Load balancers should use /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM drains requests in flight for up to 10 s: give `docker stop` more (-t 15).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/bin/purser"]
CMD ["serve"]
