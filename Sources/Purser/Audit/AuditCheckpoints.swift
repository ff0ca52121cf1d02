// Taking checkpoints: every chain whose head moved since its newest checkpoint gets a new one, and
// a signed set then records every chain's newest checkpoint — all in one transaction, so the
// database never holds a checkpoint that no set lists. A set is signed on every run, even when no
// chain moved: it vouches that, at its time, no chain had unsigned rows, which is what lets
// verification hold quiet chains to the age limit without false alarms.
import Foundation
import Postgres

public enum AuditCheckpoints {
    /// What one run signed.
    public struct Run: Sendable {
        /// The number of the set signed.
        public let set: Int64
        /// The checkpoints taken (chains whose head had moved).
        public let taken: [AuditCheckpoint]
    }

    /// Runs one at a time across every node: each set follows the one before it.
    static let lockKey: Int64 = 0x7075_7273_6572_6370  // "pursercp"

    /// Checkpoints every chain whose head moved and signs a set, at `time`. Run it where every
    /// chain is visible: a staff transaction or the owner's connection. When any chain moved, the
    /// run is recorded in the provider chain (and that record is covered by this run's checkpoint).
    @discardableResult
    public static func take(keyring: Keyring, at time: Date, in tx: Connection) throws -> Run {
        try tx.query("SELECT pg_advisory_xact_lock($1)", [lockKey])
        let micros = AuditCheckpoint.micros(time)
        var newest = try AuditCheckpoint.newest(in: tx)
        let previousSet = try AuditCheckpointSet.newest(in: tx)
        let number = (previousSet?.number ?? 0) + 1
        var heads = try moved(newest, in: tx)
        if !heads.isEmpty {
            try AuditLog.record(
                AuditEvent(
                    tenant: nil, actor: .system, action: "audit.checkpoint", targetType: "audit_checkpoint_set",
                    targetID: String(number), reason: "signed the heads of the audit chains that moved", at: time), in: tx)
            // That record moved the provider chain: its new head is signed too.
            let provider = try tx.query(
                "SELECT last_sequence, last_hash FROM audit_chains WHERE chain = $1",
                [AuditLog.providerChain])[0]
            heads.removeAll { $0.chain == AuditLog.providerChain }
            heads.append((AuditLog.providerChain, try provider.require(0, as: Int64.self), try provider.require(1, as: Bytea.self)))
            heads.sort { $0.chain < $1.chain }
        }
        var taken: [AuditCheckpoint] = []
        for head in heads {
            let checkpoint = AuditCheckpoint.signed(
                chain: head.chain, sequence: head.sequence, hash: head.hash,
                after: newest[head.chain], takenAt: micros, keyring: keyring)
            try checkpoint.insert(in: tx)
            newest[head.chain] = checkpoint
            taken.append(checkpoint)
        }
        let set = AuditCheckpointSet.signed(
            number: number, takenAt: micros, after: previousSet, newest: newest, moved: taken,
            keyring: keyring)
        try set.insert(in: tx)
        return Run(set: number, taken: taken)
    }

    /// Chains whose head is past their newest checkpoint.
    private static func moved(_ newest: [String: AuditCheckpoint], in tx: Connection) throws
        -> [(chain: String, sequence: Int64, hash: Bytea)]
    {
        try tx.query("SELECT chain, last_sequence, last_hash FROM audit_chains WHERE last_sequence > 0 ORDER BY chain").compactMap { row in
            let chain = try row.require(0, as: String.self)
            let sequence = try row.require(1, as: Int64.self)
            // A head behind its newest checkpoint is not signed again: verification reports it.
            guard sequence > newest[chain]?.sequence ?? 0 else { return nil }
            return (chain, sequence, try row.require(2, as: Bytea.self))
        }
    }

    /// Re-signs, under the first key, every checkpoint and checkpoint set whose signature an older
    /// key of the ring verifies (what is signed stays the same, so digests and links hold); a
    /// signature no key verifies is left for verify-audit to report. Needs the owner's connection.
    /// Returns how many were re-signed.
    public static func resign(keyring: Keyring, in tx: Connection) throws -> Int {
        let current = keyring.keys[0].id
        var changed = 0
        for row in try tx.query("SELECT \(AuditCheckpoint.columns) FROM audit_checkpoints WHERE key_id <> $1 FOR UPDATE", [current]) {
            let checkpoint = try AuditCheckpoint(row: row)
            guard checkpoint.isSigned(by: keyring) else { continue }
            let (keyID, tag) = keyring.authenticate(checkpoint.message)
            try tx.query(
                "UPDATE audit_checkpoints SET key_id = $3, tag = $4 WHERE chain = $1 AND number = $2",
                [checkpoint.chain, checkpoint.number, keyID, Bytea(tag)])
            changed += 1
        }
        for row in try tx.query(
            "SELECT \(AuditCheckpointSet.columns) FROM audit_checkpoint_sets WHERE key_id <> $1 FOR UPDATE",
            [current])
        {
            let set = try AuditCheckpointSet(row: row)
            guard set.isSigned(by: keyring) else { continue }
            let (keyID, tag) = keyring.authenticate(set.message)
            try tx.query("UPDATE audit_checkpoint_sets SET key_id = $2, tag = $3 WHERE number = $1", [set.number, keyID, Bytea(tag)])
            changed += 1
        }
        return changed
    }
}
