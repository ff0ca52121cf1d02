// Keeps a request's clocks, its queue columns (earliest due, breached) and its one pending SLA
// job in step, inside the transaction that changes the request (whose row the caller has
// locked). The job runs at the next warning or due time, exactly: it is moved whenever the
// clocks move, and removed when nothing is pending.
import Foundation
import class HTTPServer.Locked
import Postgres

public enum RequestSLA {
    public static let jobKind = "sla.check"

    /// The tenant's policy: its own, else its plan's, else Purser's.
    public static func policy(_ tx: Connection, tenant: UUID) throws -> SLAPolicy {
        let text = try tx.query(
            """
            SELECT coalesce(s.policy, p.sla_policy)::text FROM tenants t JOIN plans p ON p.id = t.plan_id
            LEFT JOIN sla_policies s ON s.tenant_id = t.id WHERE t.id = $1
            """, [tenant]
        ).first?.decode(0, as: String.self)
        guard let text else { return .standard }
        return decoded(text)
    }

    /// Policies decoded from their stored text, by that text: the same text is the same policy, so
    /// filing a request reads one row and skips JSONDecoder. A handful of distinct texts exist.
    private static let decodedPolicies = Locked([String: SLAPolicy]())

    static func decoded(_ text: String) -> SLAPolicy {
        if let known = decodedPolicies.withLock({ $0[text] }) { return known }
        let policy = (try? JSONDecoder().decode(SLAPolicy.self, from: Data(text.utf8))) ?? .standard
        decodedPolicies.withLock { cache in
            if cache.count >= 1000 { cache.removeAll() }
            cache[text] = policy
        }
        return policy
    }

    /// Puts the request's job at `clocks.nextEvent`: the pending one moved, a new one when it has
    /// already started (or there is none), none when nothing is pending. Returns the job to keep.
    static func schedule(_ tx: Connection, tenant: UUID, request: UUID, clocks: RequestClocks, job: Int64?) throws -> Int64? {
        guard let next = clocks.nextEvent else {
            if let job { try JobQueue.cancel(tx, id: job) }
            return nil
        }
        if let job, try JobQueue.reschedule(tx, id: job, at: next) { return job }
        return try JobQueue.enqueue(
            tx, kind: jobKind, payload: try JSONText(encoding: ["request": request.postgresText]),
            options: JobOptions(tenant: tenant, runAt: next, maxAttempts: 20, timeout: 30))
    }

    /// Saves `clocks` on the request with its queue columns and job.
    static func save(_ tx: Connection, tenant: UUID, request: UUID, clocks: RequestClocks, job: Int64?) throws {
        let kept = try schedule(tx, tenant: tenant, request: request, clocks: clocks, job: job)
        try tx.query(
            """
            UPDATE requests SET sla = $2::jsonb, sla_due_at = $3, sla_breached = $4, sla_job_id = $5 WHERE tenant_id = $6 AND id = $1
            """, [request, try JSONText(encoding: clocks), clocks.earliestDue, clocks.isBreached, kept, tenant])
    }

    /// The stored clocks of a request with what moving them needs.
    struct Stored {
        var clocks: RequestClocks
        let job: Int64?
        let filedAt: Date
        let policy: SLAPolicy
    }

    static func load(_ tx: Connection, tenant: UUID, request: UUID) throws -> Stored? {
        guard
            let row = try tx.query(
                "SELECT sla::text, sla_job_id, created_at FROM requests WHERE tenant_id = $2 AND id = $1", [request, tenant]
            ).first
        else {
            return nil
        }
        let clocks = try StoredClocks.decode(try row.require(0, as: String.self))
        return Stored(clocks: clocks, job: try row.decode(1), filedAt: try row.require(2), policy: try policy(tx, tenant: tenant))
    }

    /// Loads the request's clocks, lets `change` move them, and saves them with their job.
    static func update(_ tx: Connection, tenant: UUID, request: UUID, _ change: (inout RequestClocks, SLAPolicy, Date) -> Void) throws {
        guard var stored = try load(tx, tenant: tenant, request: request) else { return }
        let before = stored.clocks
        change(&stored.clocks, stored.policy, stored.filedAt)
        if stored.clocks != before {
            try save(tx, tenant: tenant, request: request, clocks: stored.clocks, job: stored.job)
        }
    }
}
