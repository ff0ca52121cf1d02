// Idempotency-Key on POST: the first response for (caller and tenant, method and concrete path, key)
// is kept for 24 hours and replayed for a retry with the same body. The same key with another body
// is a 422; a retry while the first request still runs is a 409. A first attempt that failed with a 5xx keeps nothing, so
// it can be retried. Stored answers are sealed under the master key: some hold secrets shown once
// (a new API token), which must not sit readable in the database.
import Crypto
import Foundation
import HTTPServer
import Postgres

public struct IdempotencyStore: Sendable {
    public static let lifetime: TimeInterval = 86400
    /// A first attempt silent this long is taken as abandoned (its node died) and may be redone.
    static let abandonedAfter: TimeInterval = 300
    let database: Database
    let keyring: Keyring
    /// The time of day keys are kept from and judged by.
    let clock: any WallClock

    public init(database: Database, keyring: Keyring, clock: any WallClock) {
        self.database = database
        self.keyring = keyring
        self.clock = clock
    }

    /// Who a key belongs to: the calling token, and the tenant it acts in (a staff token serves many).
    static func owner(token: UUID, tenant: UUID?) -> String {
        "token:" + token.postgresText + (tenant.map { "|tenant:" + $0.postgresText } ?? "")
    }

    /// The method and the concrete path, not the route's template: the same key on another {id}
    /// is another request. A path too long for a key column (the client writes it) is kept as its
    /// SHA-256, so the key stays within the index's row limit.
    static func route(method: String, path: String) -> String {
        guard path.utf8.count > 256 else { return method + " " + path }
        return method + " sha256:" + SHA256.hash(data: Array(path.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func context(_ owner: String, _ route: String, _ key: String) -> String {
        "idempotency|\(owner)|\(route)|\(key)"
    }

    enum Start {
        case proceed
        case replay(Response)
    }

    struct KeyInUse: HTTPResponseError {
        var status: HTTPStatus { .conflict }
        var detail: String? { "A request with this Idempotency-Key is still being processed; retry when it has finished." }
        var headers: HTTPHeaders { HTTPHeaders([("Retry-After", "1")]) }
    }

    struct KeyReused: HTTPResponseError {
        var status: HTTPStatus { .unprocessableContent }
        var detail: String? { "This Idempotency-Key was used with a different request body; use a new key for a new request." }
    }

    /// Validates the header: 1–255 visible ASCII characters.
    static func key(_ request: Request) throws -> String? {
        guard let key = request.headers["Idempotency-Key"] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw HTTPError(.badRequest, detail: "Idempotency-Key must be 1–255 visible ASCII characters.")
        }
        return key
    }

    func begin(owner: String, route: String, key: String, body: [UInt8]) throws -> Start {
        let hash = Bytea(Array(SHA256.hash(data: body)))
        return try database.pool.transaction { tx in
            let now = clock.now
            let inserted = try tx.query(
                """
                INSERT INTO idempotency_keys (owner, route, key, request_hash, created_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT DO NOTHING
                """, [owner, route, key, hash, now]
            ).affected
            if inserted == 1 { return .proceed }
            let row = try tx.query(
                """
                SELECT request_hash, status, content_type, body, extract(epoch FROM $4::timestamptz - created_at)
                FROM idempotency_keys WHERE owner = $1 AND route = $2 AND key = $3 FOR UPDATE
                """, [owner, route, key, now])[0]
            let age = try row.require(4, as: Double.self)
            let status = try row.decode(1, as: Int.self)
            if age > Self.lifetime || (status == nil && age > Self.abandonedAfter) {
                try tx.query(
                    """
                    UPDATE idempotency_keys SET request_hash = $4, status = NULL, content_type = NULL, body = NULL, created_at = $5
                    WHERE owner = $1 AND route = $2 AND key = $3
                    """, [owner, route, key, hash, now])
                return .proceed
            }
            guard try row.require(0, as: Bytea.self) == hash else { throw KeyReused() }
            guard let status else { throw KeyInUse() }
            let stored = try row.decode(3, as: Bytea.self)?.bytes ?? []
            let text = String(decoding: stored, as: UTF8.self)
            guard SealedValue(text: text) != nil else { throw KeyInUse() }
            let body = try SealedColumn.idempotentAnswer.open(text, row: [owner, route, key], keyring: keyring)
            var response = Response(
                status: HTTPStatus(status), contentType: try row.decode(2, as: String.self) ?? "application/json",
                body: body)
            response.headers.add("Idempotent-Replayed", "true")
            return .replay(response)
        }
    }

    /// Keeps `response` for replay, or forgets the key when the request failed on our side.
    func finish(owner: String, route: String, key: String, response: Response?) throws {
        guard let response, response.status.rawValue < 500 else {
            try database.pool.query(
                "DELETE FROM idempotency_keys WHERE owner = $1 AND route = $2 AND key = $3",
                [owner, route, key])
            return
        }
        try database.pool.query(
            """
            UPDATE idempotency_keys SET status = $4, content_type = $5, body = $6 WHERE owner = $1 AND route = $2 AND key = $3
            """,
            [
                owner, route, key, response.status.rawValue, response.headers["Content-Type"],
                Bytea(Array(try SealedColumn.idempotentAnswer.seal(response.bodyBytes, row: [owner, route, key], keyring: keyring).utf8)),
            ])
    }

    /// Removes keys older than a day (a bounded batch; run now and then).
    public func purgeExpired() throws { try Self.purgeExpired(database, at: clock.now) }

    /// Removes keys older than a day at `now` (a bounded batch).
    static func purgeExpired(_ database: Database, at now: Date) throws {
        try database.pool.query(
            """
            DELETE FROM idempotency_keys WHERE ctid IN (
                SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT 1000)
            """, [now.addingTimeInterval(-Self.lifetime)])
    }
}
