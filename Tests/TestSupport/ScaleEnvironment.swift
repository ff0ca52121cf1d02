// `make test-scale` runs the suites that start several Purser processes, a load balancer, a
// pooler, a replica or a failover group. `make test` leaves them out: they need seconds of real
// time each and peers of their own, and the scale run selects them by name (`…ScaleTests`).
import Foundation
import PostgresTesting

extension TestEnvironment {
    /// True in `make test-scale` (scripts/test-scale.sh sets PURSER_TEST_SCALE=1).
    public static var scaleRun: Bool {
        ProcessInfo.processInfo.environment["PURSER_TEST_SCALE"] == "1"
    }
}
