import Foundation
import Testing
import TestSupport

/// A node that begins to drain (`purser serve` on SIGTERM) tells load balancers by /readyz alone:
/// it answers 503 there and still serves everything else. NodesDrainScaleTests shows the whole
/// drain behind HAProxy.
@Suite struct DrainReadinessTests {
    @Test func aDrainingNodeIsNotReadyAndStillServes() throws {
        let app = try TestApp()
        #expect(try app.get("/readyz").status == 200)
        app.app.readiness.beginDraining()
        let ready = try app.get("/readyz")
        #expect(ready.status == 503)
        #expect(ready.header("Content-Type") == "application/problem+json")
        #expect(ready.text.contains("draining"))
        #expect(try app.get("/healthz").status == 200)
        #expect(try app.get("/sign-in").status == 200)
    }
}
