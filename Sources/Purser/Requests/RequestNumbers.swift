// Per-tenant request numbers (ACME-42): the tenant's counter row is locked and incremented in the
// filing transaction, so concurrent filings queue on it, and a filing that rolls back gives its
// number back — no gaps, no duplicates.
import Foundation
import Postgres

public enum RequestNumbers {
    /// The statement that takes the next number of tenant `$1`, as a CTE `number (last_number)`
    /// for the statement that uses it (one round trip while the counter is held).
    public static let nextNumber = """
        number AS (
            INSERT INTO request_counters (tenant_id, last_number) VALUES ($1, 1)
            ON CONFLICT (tenant_id) DO UPDATE SET last_number = request_counters.last_number + 1
            RETURNING last_number
        )
        """

    /// The next number of `tenant`, inside `tx` (which must have the tenant set).
    public static func next(tenant: UUID, in tx: Connection) throws -> Int {
        try tx.query("WITH \(nextNumber) SELECT last_number FROM number", [tenant])[0].require(0, as: Int.self)
    }

    /// `ACME-42`.
    public static func display(key: String, number: Int) -> String { "\(key)-\(number)" }

    /// The tenant key (upper-cased) and number of a reference such as `acme-42`; nil when it is
    /// none, including a number beyond the column's `integer`, which names no request (binding it
    /// would make PostgreSQL refuse the whole statement).
    public static func parse(_ reference: String) -> (key: String, number: Int)? {
        guard let dash = reference.lastIndex(of: "-"), let number = Int32(reference[reference.index(after: dash)...]), number > 0
        else { return nil }
        return (String(reference[..<dash]).uppercased(), Int(number))
    }
}
