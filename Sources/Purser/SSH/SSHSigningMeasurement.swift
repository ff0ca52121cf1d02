// How fast Purser's CA signs user certificates, for bench/access-sign.sh: the installation's CA,
// opened from its sealed row as a certificate request opens it, signs `count` certificates (one
// principal, a one-hour window, permit-pty) for keys made beforehand, each with its own serial from
// a local counter (the database's serial and the audit row are not part of this figure). The time is
// a duration on the monotonic clock, not a time of day.
import Foundation
import OpenSSHFormats

public enum SSHSigningMeasurement {
    public struct Result: Sendable {
        public let count: Int
        public let seconds: Double
        public var perSecond: Double { Double(count) / seconds }
    }

    public static func run(database: Database, keyring: Keyring, count: Int, at now: Date) throws -> Result {
        let authority = try SSHCertificateAuthority.load(database: database, keyring: keyring)
        let keys = (0..<count).map { _ in OpenSSHEd25519Key().publicKey }
        let started = ContinuousClock.now
        for (index, key) in keys.enumerated() {
            _ = try authority.sign(
                publicKey: key, keyID: "measure-\(index)", serial: UInt64(index + 1), principals: ["bench.host.ops"], validAfter: now,
                validBefore: now.addingTimeInterval(3600))
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(count: count, seconds: seconds)
    }
}
