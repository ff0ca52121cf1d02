// A person who has just changed something reads it back from the primary: a replica may not have
// replayed it yet. The marker travels with the client, not with a node, so it holds whichever
// stateless node answers next: every successful write (POST, PUT, PATCH, DELETE answered below 400)
// by someone signed in or holding a token sets the time until which that client's routed reads go
// to the primary, as a cookie (browsers) and as a `Purser-Primary-Until` header (API clients send it
// back on their next reads; one that does not may read a report up to the replica's lag bound behind
// its own write).
import Foundation
import HTTPServer

struct ReadYourWrites: Middleware {
    static let cookie = "purser_primary_until"
    static let header = "Purser-Primary-Until"
    /// How long after a write the writer's reads stay on the primary.
    let window: Int
    let clock: any WallClock
    let secureCookies: Bool

    func handle(_ request: Request, next: Next) throws -> Response {
        var response = try next(request)
        guard [.post, .put, .patch, .delete].contains(request.method), response.status.rawValue < 400 else { return response }
        // Signing in writes only the session: what the person reads next is not theirs to have changed.
        let session = request.cookie(SessionStore.cookieName) ?? request.cookie("__Host-" + SessionStore.cookieName)
        guard session != nil || request.headers["Authorization"] != nil else { return response }
        let until = String(Int(clock.now.timeIntervalSince1970.rounded(.down)) + window)
        response.headers.set(Self.header, until)
        // An API client authenticates with its token on every call and rarely keeps cookies.
        if request.headers["Authorization"] == nil {
            response.setCookie(SetCookie(name: Self.cookie, value: until, maxAge: window, secure: secureCookies))
        }
        return response
    }

    /// Whether `request` carries a marker (cookie or header) that has not run out at `now`. A header
    /// that is not whole seconds as digits is a 400 naming it, as the document declares it; a
    /// cookie is the browser's to keep, so a spoilt one only counts for nothing.
    static func wroteRecently(_ request: Request, now: Date) throws -> Bool {
        if let value = request.headers[header], seconds(value) == nil {
            throw HTTPError(
                .badRequest, title: "Malformed header",
                detail: "\(header) must be the whole seconds since 1970 a write's answer gave, as 1 to 12 digits.",
                fieldErrors: [FieldError(field: header, detail: "must be 1 to 12 digits")])
        }
        return [request.cookie(cookie), request.headers[header]].contains { value in
            guard let value, let until = seconds(value) else { return false }
            return TimeInterval(until) > now.timeIntervalSince1970
        }
    }

    /// `value` as the marker's seconds: 1 to 12 ASCII digits, else nil.
    static func seconds(_ value: String) -> Int? {
        guard (1...12).contains(value.utf8.count), value.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(value)
    }

    /// The marker's form, in the document as in `seconds(_:)`.
    static let schema: JSONValue = ["type": "string", "pattern": "^[0-9]{1,12}$"]

    /// The header as a write's answer carries it (`#/components/headers`).
    static let responseHeader: (String, JSONValue) = (
        header,
        [
            "description": .string(
                "Sent only where Purser reads some reports from a replica: the Unix time, in seconds, until which "
                    + "this client's reads go to the primary, so they see this write. Send it back as \(header) on the "
                    + "reports' reads."),
            "schema": schema,
        ]
    )

    /// The header as the routed reads take it (`Database.reading(for:at:)`).
    static let parameter = HTTPServer.Operation.Parameter(
        header, in: .header, schema: schema,
        description: "Optional: the \(header) a write's answer gave. Until that time the report is read from the "
            + "primary, so it reflects the caller's own writes; without it a replica may serve it, up to its lag bound behind.")
}

extension ReadYourWrites {
    /// The marker is set only where a replica may serve reads: without one every read is the primary's.
    static func middleware(_ configuration: Configuration, database: Database, clock: any WallClock) -> [any Middleware] {
        guard database.replica != nil else { return [] }
        return [ReadYourWrites(window: configuration.readOwnWritesSeconds, clock: clock, secureCookies: configuration.isHTTPS)]
    }
}

extension Database {
    /// Runs `body` for a read the replica may serve (Database.reading(ownWrites:)), on the primary
    /// while `request` carries an unexpired read-your-writes marker.
    public func reading<T>(for request: Request, at now: Date, _ body: (Database) throws -> T) throws -> T {
        try reading(ownWrites: try ReadYourWrites.wroteRecently(request, now: now), body)
    }
}
