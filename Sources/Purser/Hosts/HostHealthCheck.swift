// The hosts.health schedule: every minute it queues one check per host (hosts.health with the
// host's id), and each check runs the health command over SSH as Purser (HostShell). An answer is
// stored on the row and brings a down host back; no answer for `downAfter` marks the host down and
// sends host.down: to the host's tenant (its channels subscribed to host.down, and by mail to
// active provider staff who manage hosts), or for a host of the shared pool to every tenant whose
// active grant names it. Staff see every host's state on /staff/hosts.
import Foundation
import Postgres

enum HostHealthCheck {
    static let kind = "hosts.health"
    static let schedule = Schedule(name: kind, kind: kind, recurrence: .every(seconds: 60))
    /// How long a host may go unanswering before it is down: a few missed checks, not one.
    static let downAfter: TimeInterval = 180

    struct Payload: Codable {
        var host: UUID?
    }

    static func register(into handlers: inout JobHandlers, keyring: Keyring) {
        handlers.register(kind) { context in
            let payload = (try? context.job.decode(Payload.self)) ?? Payload(host: nil)
            if let id = payload.host {
                try check(id, context: context, keyring: keyring)
            } else {
                try fanOut(context)
            }
        }
    }

    /// One check per host, each its own job (a slow host holds only its own), coalesced per host.
    static func fanOut(_ context: JobContext) throws {
        // Without PURSER_SSH_SOURCE_ADDRESSES Purser does not SSH (docs/access.md): no checks are queued.
        guard !context.world.ssh.sourceAddresses.isEmpty else { return }
        // Nor before the CA is made (purser admin init-ssh-ca): no certificate could be signed.
        guard try SSHCertificateAuthority.publicKeyLine(database: context.database) != nil else { return }
        let now = context.world.now
        try context.database.pool.transaction { tx in
            for row in try tx.query("SELECT id, tenant_id FROM gpu_hosts ORDER BY id") {
                let id = try row.require(0, as: UUID.self)
                try JobQueue.enqueue(
                    tx, kind: kind, payload: try JSONText(encoding: Payload(host: id)),
                    options: JobOptions(
                        tenant: try row.decode(1), uniqueKey: "hosts.health:" + id.postgresText, runAt: now, maxAttempts: 1,
                        timeout: HostShell.timeout + 10))
            }
        }
    }

    static func check(_ id: UUID, context: JobContext, keyring: Keyring) throws {
        guard let host = try context.database.pool.withConnection({ try HostStore.find(id, in: $0) }) else { return }
        let outcome = try HostShell(database: context.database, keyring: keyring, world: context.world).run(
            HostHealthReading.command, purpose: "health", on: host)
        let now = context.world.now
        if outcome.connectionFailed {
            let reason =
                outcome.timedOut
                ? "no answer in \(Int(HostShell.timeout)) s" : outcome.errors.trimmingCharacters(in: .whitespacesAndNewlines)
            try unanswered(host, reason: String(reason.prefix(500)), context: context, at: now)
            return
        }
        switch HostHealthReading.parse(outcome.output) {
        case .success(let reading):
            let error = reading.gpus.isEmpty ? "nvidia-smi reported no GPUs: " + outcome.errors.prefix(300) : nil
            try answered(host, reading: reading, error: error, context: context, at: now)
        case .failure(let unreadable):
            try answered(host, reading: nil, error: unreadable.description, context: context, at: now)
        }
    }

    /// The host answered: its reading is kept, and a host that was down is back as it was left —
    /// draining if people drained it (a drained host rebooted for maintenance stays out), else active.
    static func answered(_ host: GPUHost, reading: HostHealthReading?, error: String?, context: JobContext, at now: Date) throws {
        try HostStore.transaction(for: host.tenant, in: context.database) { tx in
            let wasDown =
                try tx.query("SELECT state FROM gpu_hosts WHERE id = $1 FOR UPDATE", [host.id]).first?.require(0, as: String.self) == "down"
            try tx.query(
                """
                UPDATE gpu_hosts SET health = coalesce($2::jsonb, health), health_at = CASE WHEN $2::jsonb IS NULL THEN health_at ELSE $3 END,
                    health_error = $4, answered_at = $3,
                    state = CASE WHEN state <> 'down' THEN state WHEN drain_wanted THEN 'draining' ELSE 'active' END,
                    version = version + CASE WHEN state = 'down' THEN 1 ELSE 0 END
                WHERE id = $1
                """, [host.id, try reading.map { try JSONText(encoding: $0) }, now, error])
            if wasDown {
                try AuditLog.record(
                    AuditEvent(
                        tenant: host.tenant, actor: .system, action: "host.up", targetType: "host", targetID: host.id.postgresText,
                        reason: "answered the health check", at: now), in: tx)
            }
        }
    }

    /// The host did not answer: the error is kept, and after `downAfter` without an answer it is down.
    static func unanswered(_ host: GPUHost, reason: String, context: JobContext, at now: Date) throws {
        try HostStore.transaction(for: host.tenant, in: context.database) { tx in
            let wentDown =
                try tx.query(
                    """
                    UPDATE gpu_hosts SET health_error = $2, state = 'down', version = version + 1
                    WHERE id = $1 AND state <> 'down' AND coalesce(answered_at, created_at) <= $3::timestamptz - make_interval(secs => $4)
                    RETURNING id
                    """, [host.id, reason, now, downAfter]
                ).count == 1
            guard wentDown else {
                try tx.query("UPDATE gpu_hosts SET health_error = $2 WHERE id = $1", [host.id, reason])
                return
            }
            try AuditLog.record(
                AuditEvent(
                    tenant: host.tenant, actor: .system, action: "host.down", targetType: "host", targetID: host.id.postgresText,
                    reason: reason, at: now), in: tx)
            try HostNotices.down(host, reason: reason, tx: tx, at: now)
        }
    }
}
