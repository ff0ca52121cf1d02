// The way back from an incident's service request to its incident: the request page says which
// incident it tracks, for people who may read incidents (the request itself is readable by more).
import Foundation
import Postgres

enum IncidentOfRequest {
    struct View: Encodable, Sendable {
        let link: SiteURL
        let title: String
        let severity: String
        let state: String
    }

    /// The incident `request` tracks (one at most: incidents hold their request uniquely), or nil.
    static func view(database: Database, tenant: UUID, slug: String, request: UUID) throws -> View? {
        try database.inTenant(tenant) { tx in
            try tx.query("SELECT id, title, severity, state FROM incidents WHERE tenant_id = $1 AND request_id = $2", [tenant, request])
                .first.map {
                    View(
                        link: .incident(slug, id: try $0.require(0)), title: try $0.require(1), severity: try $0.require(2),
                        state: try $0.require(3))
                }
        }
    }
}
