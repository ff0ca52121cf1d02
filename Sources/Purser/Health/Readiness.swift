// Whether this node wants new requests. A node told to stop (SIGTERM) first answers /readyz 503
// for the drain period, so a load balancer checking it takes it out of rotation while it still
// answers everything it is sent; only then does it stop accepting connections and finish what it
// holds (`purser serve`, PURSER_DRAIN_SECONDS).
import class HTTPServer.Locked

public final class Readiness: Sendable {
    private let draining = Locked(false)

    public init() {}

    /// True once the node has begun to drain; it never becomes ready again.
    public var isDraining: Bool { draining.withLock { $0 } }

    /// From now on /readyz answers 503; every other route is served as before.
    public func beginDraining() { draining.withLock { $0 = true } }
}
