// Writing and verifying the hash-chained audit log. The content hash is computed by PostgreSQL
// from the stored values (so jsonb's own normal form is what gets hashed), with one canonical
// expression used both when writing and when verifying.
import Crypto
import Foundation
import Postgres

public enum AuditLog {
    /// The chain of events that belong to no tenant.
    public static let providerChain = "provider"
    static let genesis = Bytea([UInt8](repeating: 0, count: 32))

    public static func chain(for tenant: UUID?) -> String {
        tenant.map { $0.postgresText } ?? providerChain
    }

    /// The bytes hashed for an event row aliased `e`: every field length-prefixed (`null` for NULL),
    /// so no two different rows share a canonical form.
    static let canonical: String = {
        let fields = [
            "e.chain", "e.sequence::text", "e.id::text", "e.tenant_id::text",
            "((extract(epoch FROM e.occurred_at) * 1000000)::bigint)::text", "e.actor_kind", "e.actor_id::text",
            "e.action", "e.target_type", "e.target_id", "e.reason", "e.request_id", "e.address", "e.user_agent",
            "e.before::text", "e.after::text",
        ]
        let parts = fields.map { "coalesce(length(\($0))::text || ':' || \($0), 'null')" }
        return "convert_to(" + parts.joined(separator: " || '|' || ") + ", 'UTF8')"
    }()

    /// Appends `event` to its tenant's chain inside `tx` (the caller's transaction, so the event
    /// commits or rolls back with the change it records); returns its sequence number. Concurrent
    /// writers to one chain queue on the chain's head row.
    @discardableResult
    public static func record(_ event: AuditEvent, in tx: Connection) throws -> Int64 {
        if let sequence = try append(event, in: tx) { return sequence }
        // The chain's first event: make its head (at the genesis hash), then append.
        try tx.query(
            """
            INSERT INTO audit_chains (chain, tenant_id, last_sequence, last_hash) VALUES ($1, $2, 0, $3)
            ON CONFLICT (chain) DO NOTHING
            """, [chain(for: event.tenant), event.tenant, genesis])
        guard let sequence = try append(event, in: tx) else {
            throw PostgresError(
                kind: .server, sqlState: "42501", message: "the audit chain \(chain(for: event.tenant)) is not visible here")
        }
        return sequence
    }

    /// One statement (one round trip, so the chain's head stays locked for as short a time as
    /// possible): lock the head, hash the event over the values as PostgreSQL stores them (jsonb
    /// in its normal form, the time in microseconds) chained to the head's hash, store it, move
    /// the head. Nil when the chain has no head yet.
    private static func append(_ event: AuditEvent, in tx: Connection) throws -> Int64? {
        let values: [(any PostgresEncodable)?] = [
            chain(for: event.tenant), UUID.v7(at: event.occurredAt), event.tenant, event.actorKind.rawValue, event.actorID,
            event.action, event.targetType, event.targetID, event.reason, event.requestID, event.address, event.userAgent,
            event.before, event.after, event.occurredAt,
        ]
        // No RETURNING from the events: a transaction may write events its row-level policy does not let it read.
        return try tx.query(
            """
            WITH head AS (SELECT last_sequence, last_hash FROM audit_chains WHERE chain = $1 FOR UPDATE),
            e AS (
                SELECT v.*, head.last_sequence + 1 AS sequence, head.last_hash AS previous_hash
                FROM head, (VALUES ($1::text, $2::uuid, $3::uuid, $15::timestamptz, $4::text, $5::uuid, $6::text, $7::text, $8::text,
                                    $9::text, $10::text, $11::text, $12::text, $13::jsonb, $14::jsonb))
                     AS v (chain, id, tenant_id, occurred_at, actor_kind, actor_id, action, target_type, target_id, reason,
                           request_id, address, user_agent, before, after)
            ),
            hashed AS (SELECT e.*, sha256(e.previous_hash || \(canonical)) AS hash FROM e),
            stored AS (
                INSERT INTO audit_events (chain, sequence, id, tenant_id, occurred_at, actor_kind, actor_id, action,
                                          target_type, target_id, reason, request_id, address, user_agent, before, after,
                                          previous_hash, hash)
                SELECT chain, sequence, id, tenant_id, occurred_at, actor_kind, actor_id, action, target_type, target_id,
                       reason, request_id, address, user_agent, before, after, previous_hash, hash
                FROM hashed
            )
            UPDATE audit_chains c SET last_sequence = hashed.sequence, last_hash = hashed.hash FROM hashed WHERE c.chain = $1
            RETURNING hashed.sequence
            """, values
        ).first?.require(0, as: Int64.self)
    }

    /// Every chain name, for verifying them all.
    public static func chains(in tx: Connection) throws -> [String] {
        try tx.query("SELECT chain FROM audit_chains ORDER BY chain").map { try $0.require(0, as: String.self) }
    }

    /// Recomputes every hash of `chain`, checks the links, the head and the chain's checkpoints
    /// (numbered without gaps, each signed and following the one before, each matching its row),
    /// and with `freshness`, that no row has waited longer than allowed for a checkpoint. Run it
    /// with a connection that sees every row (the owner's, or a staff transaction).
    public static func verify(
        _ chain: String, keyring: Keyring, freshness: CheckpointFreshness? = nil,
        in tx: Connection
    ) throws -> AuditVerdict {
        let rows = try tx.query(
            """
            SELECT e.sequence, e.previous_hash, e.hash, sha256(e.previous_hash || \(canonical))
            FROM audit_events e WHERE e.chain = $1 ORDER BY e.sequence
            """, [chain])
        var expectedSequence: Int64 = 1
        var previousHash = genesis
        var purgedThrough: Int64 = 0
        var purgedHash: Bytea?
        // After a retention purge the chain continues from the last purged row, whose position
        // and hash were signed when it was purged.
        if let purge = try tx.query(
            """
            SELECT purged_through, purged_hash, purge_key_id, purge_tag FROM audit_chains WHERE chain = $1 AND purged_through > 0
            """, [chain]
        ).first {
            let through = try purge.require(0, as: Int64.self)
            let hash = try purge.require(1, as: Bytea.self)
            guard let keyID = try purge.decode(2, as: String.self), let tag = try purge.decode(3, as: Bytea.self),
                keyring.verify(purgeMessage(chain, through, hash), keyID: keyID, tag: tag.bytes)
            else {
                return .broken(sequence: through, reason: "the retention purge up to row \(through) is not signed by the master key")
            }
            expectedSequence = through + 1
            previousHash = hash
            purgedThrough = through
            purgedHash = hash
        }
        var hashes: [Int64: Bytea] = [:]
        for row in rows {
            let sequence = try row.require(0, as: Int64.self)
            let storedPrevious = try row.require(1, as: Bytea.self)
            let stored = try row.require(2, as: Bytea.self)
            let recomputed = try row.require(3, as: Bytea.self)
            if sequence != expectedSequence {
                return .broken(sequence: expectedSequence, reason: "row \(expectedSequence) is missing (next is \(sequence))")
            }
            if storedPrevious != previousHash {
                return .broken(sequence: sequence, reason: "row \(sequence) does not link to the row before it")
            }
            if stored != recomputed {
                return .broken(sequence: sequence, reason: "row \(sequence) was changed after it was written")
            }
            hashes[sequence] = stored
            previousHash = stored
            expectedSequence += 1
        }
        let last = expectedSequence - 1
        if let head = try tx.query("SELECT last_sequence, last_hash FROM audit_chains WHERE chain = $1", [chain]).first {
            let headSequence = try head.require(0, as: Int64.self)
            let headHash = try head.require(1, as: Bytea.self)
            if headSequence != last || (last > 0 && headHash != previousHash) {
                return .broken(
                    sequence: min(headSequence, last + 1),
                    reason: "the chain's head says \(headSequence) rows, \(last) remain")
            }
        }
        let checkpoints = try AuditCheckpoint.all(chain, in: tx)
        if let broken = ChainCheckpoints.check(
            checkpoints, hashes: hashes, purgedThrough: purgedThrough, purgedHash: purgedHash,
            keyring: keyring)
        {
            return broken
        }
        if let freshness,
            let stale = try ChainCheckpoints.stale(
                chain, newest: checkpoints.last, headSequence: last,
                purgedThrough: purgedThrough, freshness: freshness, in: tx)
        {
            return stale
        }
        return .intact(events: rows.count, checkpoints: checkpoints.count)
    }

    /// Removes the rows of `chain` older than `days` before `now` (retention), keeping what remains
    /// verifiable: the last removed row's sequence and hash are kept and signed, and the purge
    /// itself is recorded in the chain. Checkpoints stay (signed sets list them, and later checkpoints
    /// follow them); those at purged rows are no longer compared with rows. Needs the owner's
    /// connection (the application may not delete).
    /// Returns how many rows were removed.
    @discardableResult
    public static func purge(_ chain: String, olderThanDays days: Int, keyring: Keyring, now: Date, in tx: Connection) throws -> Int {
        guard let head = try tx.query("SELECT tenant_id FROM audit_chains WHERE chain = $1 FOR UPDATE", [chain]).first else { return 0 }
        let tenant = try head.decode(0, as: UUID.self)
        guard
            let cutoff = try tx.query(
                """
                SELECT max(sequence) FROM audit_events WHERE chain = $1 AND occurred_at < $3::timestamptz - $2 * interval '1 day'
                """, [chain, days, now]
            ).first?.decode(0, as: Int64.self)
        else { return 0 }
        let hash = try tx.query("SELECT hash FROM audit_events WHERE chain = $1 AND sequence = $2", [chain, cutoff])[0]
            .require(0, as: Bytea.self)
        let removed = try tx.query("DELETE FROM audit_events WHERE chain = $1 AND sequence <= $2", [chain, cutoff]).affected
        let (keyID, tag) = keyring.authenticate(purgeMessage(chain, cutoff, hash))
        try tx.query(
            """
            UPDATE audit_chains SET purged_through = $2, purged_hash = $3, purge_key_id = $4, purge_tag = $5 WHERE chain = $1
            """, [chain, cutoff, hash, keyID, Bytea(tag)])
        try record(
            AuditEvent(
                tenant: tenant, actor: .system, action: "audit.purge", targetType: "audit_chain",
                targetID: chain, reason: "retention: events older than \(days) days",
                after: try JSONText(encoding: ["purged_through": String(cutoff), "rows": String(removed)]), at: now),
            in: tx)
        return removed
    }

    static func purgeMessage(_ chain: String, _ sequence: Int64, _ hash: Bytea) -> [UInt8] {
        Array("purser-audit-purge|\(chain)|\(sequence)|\(hash.postgresText)".utf8)
    }

    /// What a checkpoint of format 1 (before migration 0015) signed.
    static func checkpointMessage(_ chain: String, _ sequence: Int64, _ hash: Bytea) -> [UInt8] {
        Array("purser-audit-checkpoint|\(chain)|\(sequence)|\(hash.postgresText)".utf8)
    }
}
