// Database errors that are the caller's doing become 4xx; a database that is away becomes 503.
// Everything else keeps flowing to the server's one seam, which logs it as a 500.
import HTTPServer
import Postgres

struct DatabaseErrorMapping: Middleware {
    func handle(_ request: Request, next: Next) throws -> Response {
        do {
            return try next(request)
        } catch let error as PostgresError {
            if error.isUniqueViolation {
                throw HTTPError(.conflict, detail: "That already exists.")
            }
            // Class 22, data exceptions: a value PostgreSQL cannot take (a NUL in text, a number out of range).
            if error.isCheckViolation || error.isNotNullViolation || error.isForeignKeyViolation
                || error.sqlState?.hasPrefix("22") == true {
                throw HTTPError(.unprocessableContent, detail: "The values break a rule of the data.")
            }
            if error.kind == .connection || error.kind == .poolTimeout || error.kind == .closed {
                throw HTTPError(.serviceUnavailable, detail: "The database is not answering; try again shortly.",
                                headers: HTTPHeaders([("Retry-After", "5")]))
            }
            throw error
        }
    }
}
