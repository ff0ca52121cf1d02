// One signed checkpoint of an audit chain's head. Checkpoints of a chain are numbered 1, 2, 3 …
// and each signs the digest of the one before it, so removing one leaves a gap or a broken link,
// and each signs the time it was taken, so verification can tell how long a chain went unsigned.
import Crypto
import Foundation
import Postgres

public struct AuditCheckpoint: Sendable, Equatable {
    /// 1: written before migration 0015, signed over chain, row and hash only (not linked, no time).
    /// 2: also signs its number, the previous checkpoint's digest and when it was taken.
    public let format: Int
    public let chain: String
    public let number: Int64
    /// The chain's head when it was taken: row `sequence`, whose hash is `hash`.
    public let sequence: Int64
    public let hash: Bytea
    /// The digest of checkpoint `number - 1` (zeros for the first); nil for format 1.
    public let previousDigest: Bytea?
    /// Microseconds since 1970: signed and compared as an integer, so no rounding can differ.
    public let takenAtMicros: Int64
    public var keyID: String
    public var tag: Bytea

    /// What the signature covers.
    var message: [UInt8] {
        if format == 1 { return AuditLog.checkpointMessage(chain, sequence, hash) }
        return Array(
            "purser-audit-checkpoint-v2|\(chain)|\(number)|\(sequence)|\(hash.postgresText)|\((previousDigest ?? AuditLog.genesis).postgresText)|\(takenAtMicros)"
                .utf8)
    }

    /// What the next checkpoint of the chain, and a checkpoint set, refer to it by.
    public var digest: Bytea { Bytea(Array(SHA256.hash(data: message))) }

    public var takenAt: Date { Date(timeIntervalSince1970: Double(takenAtMicros) / 1_000_000) }

    func isSigned(by keyring: Keyring) -> Bool { keyring.verify(message, keyID: keyID, tag: tag.bytes) }

    /// A new checkpoint of `chain` at row `sequence`, following `previous`, signed with the first key.
    static func signed(
        chain: String, sequence: Int64, hash: Bytea, after previous: AuditCheckpoint?, takenAt micros: Int64,
        keyring: Keyring
    ) -> AuditCheckpoint {
        var checkpoint = AuditCheckpoint(
            format: 2, chain: chain, number: (previous?.number ?? 0) + 1, sequence: sequence, hash: hash,
            previousDigest: previous?.digest ?? AuditLog.genesis, takenAtMicros: micros,
            keyID: "", tag: Bytea([]))
        let (keyID, tag) = keyring.authenticate(checkpoint.message)
        checkpoint.keyID = keyID
        checkpoint.tag = Bytea(tag)
        return checkpoint
    }

    func insert(in tx: Connection) throws {
        try tx.query(
            """
            INSERT INTO audit_checkpoints (format, chain, number, sequence, hash, previous_digest, taken_at, key_id, tag)
            VALUES ($1, $2, $3, $4, $5, $6, 'epoch'::timestamptz + $7::bigint * interval '1 microsecond', $8, $9)
            """, [format, chain, number, sequence, hash, previousDigest, takenAtMicros, keyID, tag])
    }

    static let columns = """
        format, chain, number, sequence, hash, previous_digest, (extract(epoch FROM taken_at) * 1000000)::bigint, key_id, tag
        """

    init(
        format: Int, chain: String, number: Int64, sequence: Int64, hash: Bytea, previousDigest: Bytea?, takenAtMicros: Int64,
        keyID: String, tag: Bytea
    ) {
        self.format = format
        self.chain = chain
        self.number = number
        self.sequence = sequence
        self.hash = hash
        self.previousDigest = previousDigest
        self.takenAtMicros = takenAtMicros
        self.keyID = keyID
        self.tag = tag
    }

    init(row: Row) throws {
        self.init(
            format: try row.require(0, as: Int.self), chain: try row.require(1), number: try row.require(2),
            sequence: try row.require(3), hash: try row.require(4), previousDigest: try row.decode(5),
            takenAtMicros: try row.require(6), keyID: try row.require(7), tag: try row.require(8))
    }

    /// Every checkpoint of `chain` (or of every chain), by chain and number.
    static func all(_ chain: String? = nil, in tx: Connection) throws -> [AuditCheckpoint] {
        try tx.query(
            """
            SELECT \(columns) FROM audit_checkpoints WHERE $1::text IS NULL OR chain = $1 ORDER BY chain, number
            """, [chain]
        ).map(AuditCheckpoint.init(row:))
    }

    /// The newest checkpoint of every chain that has one.
    static func newest(in tx: Connection) throws -> [String: AuditCheckpoint] {
        var newest: [String: AuditCheckpoint] = [:]
        for row in try tx.query("SELECT DISTINCT ON (chain) \(columns) FROM audit_checkpoints ORDER BY chain, number DESC") {
            let checkpoint = try AuditCheckpoint(row: row)
            newest[checkpoint.chain] = checkpoint
        }
        return newest
    }

    /// One line of a checkpoint set's listings: `chain number digest`.
    var listing: String { "\(chain) \(number) \(digest.postgresText.dropFirst(2))\n" }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
}
