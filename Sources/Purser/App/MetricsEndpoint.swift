// `/metrics` on a listener of its own (never the public address), for `serve` and `work` alike.
import HTTPServer
import Logging

public enum MetricsEndpoint {
    public static func server(host: String, port: Int, registry: MetricsRegistry, logger: Logger) -> Server {
        var router = Router()
        router.add(.get, "/metrics", options: .inline) { _ in
            Response(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(registry.render().utf8))
        }
        var configuration = ServerConfiguration(
            host: host, port: port, ioThreads: 1, workerThreads: 1, connectionLimit: 64,
            logger: logger)
        configuration.drainDeadline = .seconds(1)
        return Server(configuration: configuration, router: router)
    }
}
