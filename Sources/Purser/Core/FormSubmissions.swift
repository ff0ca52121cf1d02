// One-time keys of page forms that create something (migration 0064 says why). The page renders a
// fresh key into the form; the store claims it in the transaction that creates, and records what
// it created. A second submission of the same form blocks on the claim until the first commits and
// then learns what the first created, so the page sends the person there instead of creating it
// twice. A first submission that fails rolls back its claim, so the form can be sent again.
import Foundation
import Postgres

public enum FormSubmissions {
    /// A key for a form about to be rendered.
    public static func newKey() -> String { UUID().uuidString.lowercased() }

    /// The key a submitted form carries, if it is one Purser renders (anything else is ignored: the
    /// form then works as one without a key).
    public static func key(_ text: String?) -> String? {
        guard let text = text?.lowercased(), let id = UUID(uuidString: text) else { return nil }
        return id.uuidString.lowercased()
    }

    /// Claims `key` for `user` in `tenant` within `tx`. Nil: this is the first submission, go on and
    /// `record` what it creates. Otherwise the target an earlier, committed submission recorded.
    public static func claim(_ tx: Connection, tenant: UUID, user: UUID, key: String, at now: Date) throws -> String? {
        let inserted = try tx.query(
            """
            INSERT INTO form_submissions (tenant_id, user_id, form_key, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING
            """, [tenant, user, key, now]
        ).affected
        if inserted == 1 { return nil }
        return try tx.query(
            "SELECT target FROM form_submissions WHERE tenant_id = $1 AND user_id = $2 AND form_key = $3",
            [tenant, user, key]
        ).first?.require(0, as: String.self)
    }

    /// What the submission that claimed `key` created (an id the feature reads back).
    public static func record(_ tx: Connection, tenant: UUID, user: UUID, key: String, target: String) throws {
        try tx.query(
            "UPDATE form_submissions SET target = $4 WHERE tenant_id = $1 AND user_id = $2 AND form_key = $3",
            [tenant, user, key, target])
    }

    /// Forgets keys older than a day (a bounded batch, run by system.purge).
    public static func purge(_ database: Database, at now: Date) throws {
        try database.asStaff { tx in
            try tx.query(
                """
                DELETE FROM form_submissions WHERE ctid IN (
                    SELECT ctid FROM form_submissions WHERE created_at < $1 LIMIT 1000)
                """, [now.addingTimeInterval(-86400)])
        }
    }
}
