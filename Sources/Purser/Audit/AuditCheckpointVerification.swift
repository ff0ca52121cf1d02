// Checking checkpoints: a chain's own (numbered without gaps, linked, signed, matching the rows),
// how long a chain's newest rows have gone unsigned, and the signed sets against the chains and
// checkpoints the database still has.
import Foundation
import Postgres

/// How long rows may wait for a checkpoint, the time to measure from, and when the newest validly
/// signed checkpoint set was taken (it vouches that no chain had unsigned rows then). One value
/// serves a whole verification, every chain: the set is read once.
public struct CheckpointFreshness: Sendable {
    public var maxAge: TimeInterval
    public var now: Date
    /// When the newest checkpoint set was taken, if it is signed by the master key; nil when there is none.
    public var vouchedBySet: Date?

    public init(maxAge: TimeInterval, now: Date, vouchedBySet: Date?) {
        self.maxAge = maxAge
        self.now = now
        self.vouchedBySet = vouchedBySet
    }

    /// Reads the newest checkpoint set. Read it before the chains: a set signed meanwhile is then
    /// left out, which only measures from an earlier time (stricter, never more lenient).
    public init(maxAge: TimeInterval, now: Date, keyring: Keyring, in tx: Connection) throws {
        let set = try AuditCheckpointSet.newest(in: tx)
        self.init(maxAge: maxAge, now: now, vouchedBySet: set.flatMap { $0.isSigned(by: keyring) ? $0.takenAt : nil })
    }

    var description: String {
        let hours = Int((maxAge / 3600).rounded())
        return hours == 1 ? "1 hour" : "\(hours) hours"
    }
}

/// Something verification found that belongs to a chain (or to the sets as a whole, chain nil).
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public let chain: String?
    public let reason: String
    public var description: String { reason }
}

enum ChainCheckpoints {
    /// The first problem with `chain`'s checkpoints, given its rows' hashes (`hashes`, by sequence)
    /// and its purge point; nil when they hold.
    static func check(
        _ checkpoints: [AuditCheckpoint], hashes: [Int64: Bytea], purgedThrough: Int64, purgedHash: Bytea?,
        keyring: Keyring
    ) -> AuditVerdict? {
        var previous: AuditCheckpoint?
        for checkpoint in checkpoints {
            let expected = (previous?.number ?? 0) + 1
            if checkpoint.number != expected {
                return .broken(
                    sequence: checkpoint.sequence,
                    reason: "checkpoint \(expected) is missing (next is \(checkpoint.number)): checkpoints were removed")
            }
            guard checkpoint.isSigned(by: keyring) else {
                return .broken(
                    sequence: checkpoint.sequence,
                    reason: "the checkpoint at row \(checkpoint.sequence) is not signed by the master key")
            }
            if checkpoint.format >= 2 && checkpoint.previousDigest != (previous?.digest ?? AuditLog.genesis) {
                return .broken(
                    sequence: checkpoint.sequence,
                    reason: "checkpoint \(checkpoint.number) does not follow checkpoint \(expected - 1)")
            }
            if let previous, checkpoint.sequence <= previous.sequence {
                return .broken(
                    sequence: checkpoint.sequence,
                    reason: "checkpoint \(checkpoint.number) goes back to row \(checkpoint.sequence)")
            }
            let row =
                checkpoint.sequence > purgedThrough
                ? hashes[checkpoint.sequence]
                : checkpoint.sequence == purgedThrough ? purgedHash : checkpoint.hash
            if checkpoint.sequence > 0 && row != checkpoint.hash {
                return .broken(
                    sequence: checkpoint.sequence,
                    reason: "row \(checkpoint.sequence) differs from the signed checkpoint (history was rewritten)")
            }
            previous = checkpoint
        }
        return nil
    }

    /// Rows after the newest checkpoint that have waited longer than the limit: the schedule should
    /// have signed them. The wait runs from the newest validly signed set (which vouches that no
    /// chain had unsigned rows at its time, `freshness.vouchedBySet`) or the chain's newest
    /// checkpoint, whichever is later; with neither, from the first unsigned row. Only a checkpoint
    /// of format 2 signs its time: a format-1 checkpoint's `taken_at` could be set to any time
    /// (the future, turning the rule off), so it does not count.
    static func stale(
        _ chain: String, newest: AuditCheckpoint?, headSequence: Int64, purgedThrough: Int64,
        freshness: CheckpointFreshness, in tx: Connection
    ) throws -> AuditVerdict? {
        let covered = max(newest?.sequence ?? 0, purgedThrough)
        guard headSequence > covered else { return nil }
        var vouched: [Date] = freshness.vouchedBySet.map { [$0] } ?? []
        if let newest, newest.format >= 2 { vouched.append(newest.takenAt) }
        let since =
            try vouched.max() ?? tx.query(
                "SELECT occurred_at FROM audit_events WHERE chain = $1 AND sequence = $2",
                [chain, covered + 1]
            ).first?.require(0, as: Date.self) ?? freshness.now
        guard freshness.now.timeIntervalSince(since) > freshness.maxAge else { return nil }
        return .broken(
            sequence: covered + 1,
            reason: """
                row \(covered + 1) and after are not covered by a checkpoint taken in the last \(freshness.description) \
                (checkpoints are signed since \(RFC3339.string(since))); is `purser work` running?
                """)
    }
}

public enum AuditCheckpointSets {
    public struct Verdict: Sendable {
        public let sets: Int
        public let newest: Date?
        public let problems: [AuditProblem]
    }

    /// Checks every set (numbered without gaps, linked, signed), that every checkpoint a set lists
    /// is still there, unchanged, on a chain that still has its row, that every checkpoint of format
    /// 2 is listed by a set (so removing every set is found while any such checkpoint remains), and
    /// that the newest set lists exactly the chains and newest checkpoints the database has. Run it
    /// in one snapshot that sees every chain (repeatable read, as the owner or staff).
    public static func verify(keyring: Keyring, in tx: Connection) throws -> Verdict {
        var problems: [AuditProblem] = []
        let sets = try AuditCheckpointSet.all(in: tx)
        var previous: AuditCheckpointSet?
        for set in sets {
            let expected = (previous?.number ?? 0) + 1
            if set.number != expected {
                problems.append(AuditProblem(chain: nil, reason: "checkpoint set \(expected) is missing (next is \(set.number))"))
            } else if !set.isSigned(by: keyring) {
                problems.append(AuditProblem(chain: nil, reason: "checkpoint set \(set.number) is not signed by the master key"))
            } else if set.previousDigest != (previous?.digest ?? AuditLog.genesis) {
                problems.append(AuditProblem(chain: nil, reason: "checkpoint set \(set.number) does not follow set \(expected - 1)"))
            }
            previous = set
        }
        let checkpoints = try AuditCheckpoint.all(in: tx)
        var digests: [String: [Int64: Bytea]] = [:]
        for checkpoint in checkpoints { digests[checkpoint.chain, default: [:]][checkpoint.number] = checkpoint.digest }
        let rows = Set(try tx.query("SELECT chain FROM audit_chains").map { try $0.require(0, as: String.self) })
        var reported = Set<String>()
        for set in sets {
            for entry in set.movedEntries where !reported.contains(entry.chain) {
                let problem: String?
                if !rows.contains(entry.chain) {
                    problem = "the chain \(entry.chain) has no row, yet checkpoint set \(set.number) lists its checkpoint \(entry.number)"
                } else if let digest = digests[entry.chain]?[entry.number] {
                    problem =
                        digest.postgresText.dropFirst(2) == entry.digest
                        ? nil
                        : "checkpoint \(entry.number) differs from the one checkpoint set \(set.number) lists"
                } else {
                    problem = "checkpoint \(entry.number), listed in checkpoint set \(set.number), is missing"
                }
                if let problem {
                    problems.append(AuditProblem(chain: entry.chain, reason: problem))
                    reported.insert(entry.chain)
                }
            }
        }
        for chain in digests.keys.sorted() where !rows.contains(chain) && !reported.contains(chain) {
            problems.append(AuditProblem(chain: chain, reason: "the chain \(chain) has signed checkpoints but no row"))
            reported.insert(chain)
        }
        // Every checkpoint of format 2 was taken with the set that lists it, in one transaction; one
        // that no set lists means sets were removed (all of them, when there are none left).
        let listed = Set(sets.flatMap { set in set.movedEntries.map { "\($0.chain) \($0.number)" } })
        let unlisted = checkpoints.filter { $0.format >= 2 && !listed.contains("\($0.chain) \($0.number)") }
        if sets.isEmpty, !unlisted.isEmpty {
            problems.append(
                AuditProblem(
                    chain: nil,
                    reason: """
                        there is no checkpoint set, yet \(unlisted.count) checkpoints of format 2 are (each was taken with a set): \
                        the sets were removed
                        """))
        } else {
            var first: [String: AuditCheckpoint] = [:]
            for checkpoint in unlisted where first[checkpoint.chain] == nil { first[checkpoint.chain] = checkpoint }
            for (chain, checkpoint) in first.sorted(by: { $0.key < $1.key }) where !reported.contains(chain) {
                problems.append(
                    AuditProblem(
                        chain: chain,
                        reason: """
                            checkpoint \(checkpoint.number) is listed in no checkpoint set (the set that listed it was removed, \
                            or it was taken outside a set)
                            """))
                reported.insert(chain)
            }
        }
        if let newest = sets.last, problems.isEmpty {
            let heads = try AuditCheckpoint.newest(in: tx)
            if AuditCheckpointSet.headsDigest(heads) != newest.headsDigest || heads.count != newest.chains {
                problems.append(
                    AuditProblem(
                        chain: nil,
                        reason: """
                            the chains and their newest checkpoints differ from what checkpoint set \(newest.number) signed \
                            (checkpoints taken outside a set, or sets removed after it)
                            """))
            }
        }
        return Verdict(sets: sets.count, newest: sets.last?.takenAt, problems: problems)
    }
}
