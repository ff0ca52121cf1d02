// Early revocations and the KRL built from them. sshd refuses a certificate the KRL names even
// inside its window; hosts fetch GET /api/v1/ssh/krl (no sign-in: it is published to every host)
// into their RevokedKeys file. Each revocation raises the list's version, so its ETag changes.
import Foundation
import OpenSSHFormats
import Postgres

public enum SSHRevocations {
    /// Revokes certificates by key id (a grant's id) and, if given, by serial. Call it in the
    /// transaction that ends the grant; the KRL served next includes it.
    public static func revoke(_ tx: Connection, keyID: String, serial: UInt64?, reason: String, at now: Date) throws {
        let reason = String(reason.trimmingCharacters(in: .whitespacesAndNewlines).prefix(500))
        try tx.query(
            "INSERT INTO ssh_revocations (key_id, serial, reason, revoked_at) VALUES ($1, $2, $3, $4)",
            [keyID, serial.map { Int64(bitPattern: $0) }, reason.isEmpty ? "revoked" : reason, now])
    }

    /// The KRL as served: bytes and an ETag naming the CA and the list's version.
    public struct List: Sendable {
        public let bytes: [UInt8]
        public let etag: String
        public let version: UInt64
    }

    /// The current KRL of `authority`'s certificates. Its date is the last revocation's, so the same
    /// rows always make the same bytes.
    public static func list(database: Database, authority: OpenSSHPublicKey) throws -> List {
        // One statement, so the version and the rows are of one snapshot.
        var (version, generated) = (UInt64(0), Date(timeIntervalSince1970: 0))
        var serials: [UInt64] = []
        var keyIDs: [String] = []
        for row in try database.pool.query("SELECT id, revoked_at, key_id, serial FROM ssh_revocations ORDER BY id") {
            version = UInt64(try row.require(0, as: Int64.self))
            generated = max(generated, try row.require(1, as: Date.self))
            keyIDs.append(try row.require(2, as: String.self))
            if let serial = try row.decode(3, as: Int64.self) { serials.append(UInt64(serial)) }
        }
        let krl = OpenSSHKRL(
            version: version, generated: generated, comment: "purser", authority: authority, serials: serials, keyIDs: keyIDs)
        let tag = authority.fingerprint.dropFirst("SHA256:".count).prefix(16).replacingOccurrences(of: "/", with: "_")
        return List(bytes: krl.bytes, etag: "\"krl-\(tag)-\(version)\"", version: version)
    }
}
