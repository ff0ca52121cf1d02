// A signed checkpoint of the set of chains: which chains have checkpoints and which is each one's
// newest (a digest over that listing), plus the checkpoints this run took. Sets are numbered and
// each signs the digest of the one before, like a chain's checkpoints. Deleting a chain's row or
// its checkpoints no longer leaves a consistent database: some signed set still names them.
import Crypto
import Foundation
import Postgres

public struct AuditCheckpointSet: Sendable, Equatable {
    public let number: Int64
    public let takenAtMicros: Int64
    /// The digest of set `number - 1` (zeros for the first).
    public let previousDigest: Bytea
    /// SHA-256 of `heads(newest)`: every chain with a checkpoint and its newest, when this set was taken.
    public let headsDigest: Bytea
    /// How many chains that listing has.
    public let chains: Int
    /// `chain number digest` lines of the checkpoints this set's run took (empty when nothing moved).
    public let moved: String
    public var keyID: String
    public var tag: Bytea

    var message: [UInt8] {
        Array(
            "purser-audit-checkpoint-set|\(number)|\(takenAtMicros)|\(previousDigest.postgresText)|\(headsDigest.postgresText)|\(chains)\n\(moved)"
                .utf8)
    }

    public var digest: Bytea { Bytea(Array(SHA256.hash(data: message))) }
    public var takenAt: Date { Date(timeIntervalSince1970: Double(takenAtMicros) / 1_000_000) }

    func isSigned(by keyring: Keyring) -> Bool { keyring.verify(message, keyID: keyID, tag: tag.bytes) }

    /// The listing a set's heads digest covers: one line per chain, in chain order.
    static func heads(_ newest: [String: AuditCheckpoint]) -> String {
        newest.keys.sorted().map { newest[$0]!.listing }.joined()
    }

    static func headsDigest(_ newest: [String: AuditCheckpoint]) -> Bytea {
        Bytea(Array(SHA256.hash(data: Array(heads(newest).utf8))))
    }

    /// The (chain, number, digest) entries of `moved`.
    var movedEntries: [(chain: String, number: Int64, digest: String)] {
        moved.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, let number = Int64(fields[1]) else { return nil }
            return (String(fields[0]), number, String(fields[2]))
        }
    }

    static func signed(
        number: Int64, takenAt micros: Int64, after previous: AuditCheckpointSet?, newest: [String: AuditCheckpoint],
        moved: [AuditCheckpoint], keyring: Keyring
    ) -> AuditCheckpointSet {
        var set = AuditCheckpointSet(
            number: number, takenAtMicros: micros, previousDigest: previous?.digest ?? AuditLog.genesis,
            headsDigest: headsDigest(newest), chains: newest.count,
            moved: moved.sorted { $0.chain < $1.chain }.map(\.listing).joined(), keyID: "", tag: Bytea([]))
        let (keyID, tag) = keyring.authenticate(set.message)
        set.keyID = keyID
        set.tag = Bytea(tag)
        return set
    }

    func insert(in tx: Connection) throws {
        try tx.query(
            """
            INSERT INTO audit_checkpoint_sets (number, taken_at, previous_digest, heads_digest, chains, moved, key_id, tag)
            VALUES ($1, 'epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3, $4, $5, $6, $7, $8)
            """, [number, takenAtMicros, previousDigest, headsDigest, chains, moved, keyID, tag])
    }

    static let columns = """
        number, (extract(epoch FROM taken_at) * 1000000)::bigint, previous_digest, heads_digest, chains, moved, key_id, tag
        """

    init(
        number: Int64, takenAtMicros: Int64, previousDigest: Bytea, headsDigest: Bytea, chains: Int, moved: String,
        keyID: String, tag: Bytea
    ) {
        self.number = number
        self.takenAtMicros = takenAtMicros
        self.previousDigest = previousDigest
        self.headsDigest = headsDigest
        self.chains = chains
        self.moved = moved
        self.keyID = keyID
        self.tag = tag
    }

    init(row: Row) throws {
        self.init(
            number: try row.require(0), takenAtMicros: try row.require(1), previousDigest: try row.require(2),
            headsDigest: try row.require(3), chains: try row.require(4), moved: try row.require(5), keyID: try row.require(6),
            tag: try row.require(7))
    }

    static func all(in tx: Connection) throws -> [AuditCheckpointSet] {
        try tx.query("SELECT \(columns) FROM audit_checkpoint_sets ORDER BY number").map(AuditCheckpointSet.init(row:))
    }

    static func newest(in tx: Connection) throws -> AuditCheckpointSet? {
        try tx.query("SELECT \(columns) FROM audit_checkpoint_sets ORDER BY number DESC LIMIT 1").first.map(AuditCheckpointSet.init(row:))
    }
}
