// Lists of requests: a tenant's own (RLS keeps it to them) and the staff queue across tenants.
// The statement is built from the filters actually given, so that the planner sees plain
// conditions and picks the index that serves them (the first page of any combination stays well
// under 20 ms on 100,000 requests); keyset paging continues after the last row of a page.
import Foundation
import Postgres

public struct RequestQuery: Sendable {
    public enum Sort: String, Sendable, CaseIterable {
        case newest
        /// Soonest SLA due time first (overdue ones first of all); only requests with a running clock.
        case due
    }

    public var tenantSlug: String?
    public var states: [String] = []
    public var priority: String?
    public var type: String?
    public var assignee: UUID?
    public var unassigned = false
    public var group: UUID?
    public var breached = false
    public var escalated = false
    public var text: String?
    public var sort = Sort.newest
    /// The last request of the previous page.
    public var after: UUID?

    public init() {}

    /// The WHERE and ORDER BY of the query, with its parameters numbered from `first`.
    func clauses(first: Int) -> (sql: String, parameters: [(any PostgresEncodable)?]) {
        var conditions: [String] = []
        var parameters: [(any PostgresEncodable)?] = []
        func parameter(_ value: any PostgresEncodable) -> String {
            parameters.append(value)
            return "$\(first + parameters.count - 1)"
        }
        // By id, so that the (tenant, newest) index answers rather than a walk over every tenant.
        if let tenantSlug { conditions.append("r.tenant_id = (SELECT id FROM tenants WHERE slug = \(parameter(tenantSlug)))") }
        if !states.isEmpty { conditions.append("r.state = ANY(\(parameter(states))::text[])") }
        if let priority { conditions.append("r.priority = \(parameter(priority))") }
        if let type { conditions.append("r.type = \(parameter(type))") }
        if let assignee { conditions.append("r.assignee_id = \(parameter(assignee))") }
        if unassigned { conditions.append("r.assignee_id IS NULL") }
        if let group { conditions.append("r.group_id = \(parameter(group))") }
        if breached { conditions.append("r.sla_breached") }
        if escalated { conditions.append("r.escalated") }
        if let text {
            let pattern =
                "%"
                + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
            let name = parameter(pattern)
            conditions.append("(r.subject ILIKE \(name) OR r.description ILIKE \(name))")
        }
        let order: String
        switch sort {
        case .newest:
            if let after {
                conditions.append("(r.created_at, r.id) < (SELECT created_at, id FROM requests WHERE id = \(parameter(after)))")
            }
            order = "ORDER BY r.created_at DESC, r.id DESC"
        case .due:
            conditions.append("r.sla_due_at IS NOT NULL")
            if let after {
                conditions.append("(r.sla_due_at, r.id) > (SELECT sla_due_at, id FROM requests WHERE id = \(parameter(after)))")
            }
            order = "ORDER BY r.sla_due_at, r.id"
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return (filter + " " + order, parameters)
    }
}

extension RequestStore {
    /// A tenant's requests as `query` asks, `limit` at a time.
    public func list(tenant: UUID, query: RequestQuery, limit: Int) throws -> [ServiceRequest] {
        var query = query
        query.tenantSlug = nil
        let (clauses, parameters) = query.clauses(first: 3)
        let scoped = clauses.hasPrefix("WHERE ") ? "AND " + clauses.dropFirst(6) : clauses
        return try database.inTenant(tenant) { tx in
            try tx.query(
                "SELECT \(Self.columns) FROM \(Self.joins) WHERE r.tenant_id = $1 \(scoped) LIMIT $2",
                [tenant, limit] as [(any PostgresEncodable)?] + parameters
            ).map(Self.decode)
        }
    }

    /// The staff queue across tenants. Run for staff only.
    public func queue(_ query: RequestQuery, limit: Int) throws -> [(request: ServiceRequest, tenantSlug: String, tenantName: String)] {
        let (clauses, parameters) = query.clauses(first: 2)
        return try database.asStaff { tx in
            try tx.query(
                "SELECT \(Self.columns), t.slug, t.name FROM \(Self.joins) \(clauses) LIMIT $1",
                [limit] as [(any PostgresEncodable)?] + parameters
            ).map {
                (
                    try Self.decode($0), try $0.require(Self.nextColumn, as: String.self),
                    try $0.require(Self.nextColumn + 1, as: String.self)
                )
            }
        }
    }
}
