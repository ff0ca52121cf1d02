// Hosts of the provider's shared pool (gpu_hosts without a tenant), as a tenant's SSH access
// policy names them by label. Row-level security hides the pool from a tenant's transaction, so the
// host an access request names is found in a staff transaction of its own, by name and label only,
// before the tenant's transaction that files the request (hosts are never deleted; the tenant's
// transaction checks the labels again against the policy it reads).
//
// The certificate's principal for a pool host names the tenant too: `_pool.<host>.<login>.<tenant>`.
// A pool host lists one line per tenant it serves in its AuthorizedPrincipalsFile, so one tenant's
// grant never opens the host for another, and a tenant the host does not list is refused by sshd
// even with an approved grant (docs/access.md).
import Foundation
import Postgres

extension SSHPrincipal {
    /// `_pool.<host-name>.<login>.<tenant-slug>`: a pool host's login for one tenant's people.
    public static func forPoolHost(tenantSlug: String, hostName: String, login: String) -> String {
        forHost(tenantSlug: nil, hostName: hostName, login: login) + "." + tenantSlug
    }
}

enum AccessPoolHosts {
    struct Host: Sendable, Equatable {
        let id: UUID
        let name: String
        let labels: [String]
    }

    /// The pool host called `name` carrying one of `labels`, if any.
    static func find(_ name: String, labels: [String], in database: Database) throws -> Host? {
        try database.asStaff { tx in
            try tx.query(
                "SELECT id, name, labels FROM gpu_hosts WHERE tenant_id IS NULL AND name = $1 AND labels && $2::text[]",
                [name.lowercased(), labels]
            ).first.map { Host(id: try $0.require(0), name: try $0.require(1), labels: try $0.require(2, as: [String].self)) }
        }
    }

    /// The names of the pool hosts carrying one of `labels` (at most 50), for the people who may ask.
    static func names(labels: [String], in database: Database) throws -> [String] {
        guard !labels.isEmpty else { return [] }
        return try database.asStaff { tx in
            try tx.query(
                "SELECT name FROM gpu_hosts WHERE tenant_id IS NULL AND labels && $1::text[] ORDER BY name LIMIT 50", [labels]
            ).map { try $0.require(0, as: String.self) }
        }
    }
}

extension AccessStore {
    /// The pool host an access request under a pool policy names, read before the tenant's
    /// transaction; nil for any other policy (or no such host: the request is refused there).
    func poolHost(_ new: NewAccessRequest, tenant: UUID) throws -> AccessPoolHosts.Host? {
        guard let name = new.host?.trimmingCharacters(in: .whitespaces), !name.isEmpty else { return nil }
        let labels = try database.inTenant(tenant) { tx in
            try tx.query(
                "SELECT host_labels FROM access_policies WHERE tenant_id = $2 AND id = $1 AND kind = 'ssh' AND host_source = 'pool'",
                [new.policyID, tenant]
            ).first?.require(0, as: [String].self)
        }
        guard let labels else { return nil }
        return try AccessPoolHosts.find(name, labels: labels, in: database)
    }
}
