// Checkpoints kept outside the database: `purser admin export-checkpoints` writes every checkpoint
// and checkpoint set as one JSON object per line, and `verify-audit --against FILE` checks that the
// database still has each of them unchanged and that the rows they signed still hash the same.
// Someone who can rewrite the whole database can delete every signature in it; they cannot reach
// a copy kept elsewhere.
import Foundation
import Postgres

public enum AuditCheckpointExport {
    /// One line of the file. Digests are compared, not tags: a key rotation re-signs checkpoints
    /// without changing what they sign.
    struct Record: Codable {
        var type: String
        var number: Int64
        var takenAt: String
        var takenAtMicros: Int64
        var previousDigest: String?
        var digest: String
        var keyID: String
        var tag: String
        // Checkpoints
        var format: Int?
        var chain: String?
        var sequence: Int64?
        var hash: String?
        // Sets
        var headsDigest: String?
        var chains: Int?
        var moved: String?

        enum CodingKeys: String, CodingKey {
            case type, number, format, chain, sequence, hash, digest, tag, chains, moved
            case takenAt = "taken_at", takenAtMicros = "taken_at_us", previousDigest = "previous_digest", keyID = "key_id"
            case headsDigest = "heads_digest"
        }

        init(_ checkpoint: AuditCheckpoint) {
            type = "checkpoint"
            number = checkpoint.number
            takenAt = RFC3339.string(checkpoint.takenAt)
            takenAtMicros = checkpoint.takenAtMicros
            previousDigest = checkpoint.previousDigest.map(hex)
            digest = hex(checkpoint.digest)
            keyID = checkpoint.keyID
            tag = hex(checkpoint.tag)
            format = checkpoint.format
            chain = checkpoint.chain
            sequence = checkpoint.sequence
            hash = hex(checkpoint.hash)
        }

        init(_ set: AuditCheckpointSet) {
            type = "set"
            number = set.number
            takenAt = RFC3339.string(set.takenAt)
            takenAtMicros = set.takenAtMicros
            previousDigest = hex(set.previousDigest)
            digest = hex(set.digest)
            keyID = set.keyID
            tag = hex(set.tag)
            headsDigest = hex(set.headsDigest)
            chains = set.chains
            moved = set.moved
        }

        /// The checkpoint this line describes, rebuilt from its fields (so its digest is recomputed).
        var checkpoint: AuditCheckpoint? {
            guard type == "checkpoint", let format, let chain, let sequence, let hash = hash.flatMap(bytes) else { return nil }
            return AuditCheckpoint(
                format: format, chain: chain, number: number, sequence: sequence, hash: hash,
                previousDigest: previousDigest.flatMap(bytes), takenAtMicros: takenAtMicros, keyID: keyID,
                tag: bytes(tag) ?? Bytea([]))
        }

        var set: AuditCheckpointSet? {
            guard type == "set", let previous = previousDigest.flatMap(bytes), let heads = headsDigest.flatMap(bytes), let chains,
                let moved
            else { return nil }
            return AuditCheckpointSet(
                number: number, takenAtMicros: takenAtMicros, previousDigest: previous, headsDigest: heads,
                chains: chains, moved: moved, keyID: keyID, tag: bytes(tag) ?? Bytea([]))
        }
    }

    /// Every checkpoint (by chain and number) and then every set (by number), one JSON object per line.
    public static func lines(in tx: Connection) throws -> (text: String, checkpoints: Int, sets: Int) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let checkpoints = try AuditCheckpoint.all(in: tx)
        let sets = try AuditCheckpointSet.all(in: tx)
        var text = ""
        for record in checkpoints.map(Record.init) + sets.map(Record.init) {
            text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n"
        }
        return (text, checkpoints.count, sets.count)
    }

    /// What in the database differs from the exported `text`: a checkpoint or set of the file that
    /// is missing or different, or a row under an exported checkpoint that no longer hashes the same.
    /// Run it in one snapshot that sees every chain.
    public static func compare(_ text: String, in tx: Connection) throws -> (checked: Int, problems: [AuditProblem]) {
        var problems: [AuditProblem] = []
        var exported: [String: [AuditCheckpoint]] = [:]
        var sets: [AuditCheckpointSet] = []
        let decoder = JSONDecoder()
        for (index, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let record = try? decoder.decode(Record.self, from: Data(line.utf8))
            if let record, let checkpoint = record.checkpoint, hex(checkpoint.digest) == record.digest {
                exported[checkpoint.chain, default: []].append(checkpoint)
            } else if let record, let set = record.set, hex(set.digest) == record.digest {
                sets.append(set)
            } else {
                problems.append(
                    AuditProblem(
                        chain: record?.chain,
                        reason: """
                            line \(index + 1) of the exported file is not a checkpoint or set whose digest matches its fields
                            """))
            }
        }
        let stored = Dictionary(try AuditCheckpoint.all(in: tx).map { ("\($0.chain) \($0.number)", $0.digest) }) { first, _ in first }
        for (chain, checkpoints) in exported.sorted(by: { $0.key < $1.key }) {
            if let missing = checkpoints.first(where: { stored["\(chain) \($0.number)"] == nil }) {
                problems.append(AuditProblem(chain: chain, reason: "exported checkpoint \(missing.number) is missing from the database"))
            } else if let different = checkpoints.first(where: { stored["\(chain) \($0.number)"] != $0.digest }) {
                problems.append(AuditProblem(chain: chain, reason: "checkpoint \(different.number) differs from the exported copy"))
            }
            if let rewritten = try rewrittenRow(chain, under: checkpoints, in: tx) {
                problems.append(AuditProblem(chain: chain, reason: rewritten))
            }
        }
        let storedSets = Dictionary(try AuditCheckpointSet.all(in: tx).map { ($0.number, $0.digest) }) { first, _ in first }
        for set in sets {
            if storedSets[set.number] == nil {
                problems.append(AuditProblem(chain: nil, reason: "exported checkpoint set \(set.number) is missing from the database"))
            } else if storedSets[set.number] != set.digest {
                problems.append(AuditProblem(chain: nil, reason: "checkpoint set \(set.number) differs from the exported copy"))
            }
        }
        return (exported.values.reduce(0) { $0 + $1.count } + sets.count, problems)
    }

    /// The first row of `chain`, at an exported checkpoint and not purged since, that is missing or
    /// hashes differently from what the checkpoint signed.
    private static func rewrittenRow(_ chain: String, under checkpoints: [AuditCheckpoint], in tx: Connection) throws -> String? {
        let purged =
            try tx.query("SELECT purged_through FROM audit_chains WHERE chain = $1", [chain]).first?
            .require(0, as: Int64.self) ?? 0
        let signed = checkpoints.filter { $0.sequence > purged }
        guard !signed.isEmpty else { return nil }
        var hashes: [Int64: Bytea] = [:]
        for row in try tx.query(
            "SELECT sequence, hash FROM audit_events WHERE chain = $1 AND sequence = ANY($2::bigint[])",
            [chain, signed.map { String($0.sequence) }])
        {
            hashes[try row.require(0, as: Int64.self)] = try row.require(1, as: Bytea.self)
        }
        for checkpoint in signed.sorted(by: { $0.sequence < $1.sequence }) where hashes[checkpoint.sequence] != checkpoint.hash {
            return hashes[checkpoint.sequence] == nil
                ? "row \(checkpoint.sequence), signed by exported checkpoint \(checkpoint.number), is missing"
                : "row \(checkpoint.sequence) differs from exported checkpoint \(checkpoint.number) (history was rewritten)"
        }
        return nil
    }

    static func hex(_ value: Bytea) -> String { String(value.postgresText.dropFirst(2)) }

    static func bytes(_ hex: String) -> Bytea? { Bytea(postgresText: "\\x" + hex) }
}
