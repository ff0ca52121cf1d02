// Where errors cross to HTTP. The domain's refusals (Core/DomainError.swift) get their statuses
// and headers here, the one place that knows both; database errors that are the caller's doing
// become 4xx and a database that is away becomes 503. Everything else keeps flowing to the server's
// one seam, which logs it as a 500.
import HTTPServer
import Postgres

extension Refusal {
    /// The one HTTP status of each refusal.
    public var status: HTTPStatus {
        switch self {
        case .invalid: .unprocessableContent
        case .tooLarge: .contentTooLarge
        case .notFound: .notFound
        case .conflict: .conflict
        case .changedSince: .preconditionFailed
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .tooMany: .tooManyRequests
        }
    }
}

/// A domain error as the seam renders it: problem+json for the API, the error page for pages.
extension DomainError where Self: HTTPResponseError {
    public var status: HTTPStatus { refusal.status }
    public var title: String { headline ?? status.reasonPhrase }
    public var detail: String? { nil }
    public var fieldErrors: [FieldError] { [] }
    public var extensionMembers: [String: JSONValue] { [:] }
    public var headers: HTTPHeaders {
        guard let seconds = retryAfterSeconds else { return HTTPHeaders() }
        return HTTPHeaders([("Retry-After", String(seconds))])
    }
}

// Every domain error crosses the seam as itself (handlers and the gate may still catch it by type).
extension NotFound: HTTPResponseError {}
extension ValidationError: HTTPResponseError {}
extension Forbidden: HTTPResponseError {}
extension MissingScope: HTTPResponseError {}
extension Unauthenticated: HTTPResponseError {
    public var headers: HTTPHeaders {
        HTTPHeaders([("WWW-Authenticate", #"Bearer realm="purser", error="invalid_token""#)])
    }
}
extension StaleVersion: HTTPResponseError {
    /// The version that is current now, so the caller can read it again and retry.
    public var headers: HTTPHeaders { HTTPHeaders([("ETag", current)]) }
}
extension DeploymentChanged: HTTPResponseError {
    /// The deployment's current version, to read again and decide on.
    public var headers: HTTPHeaders { HTTPHeaders([("ETag", current)]) }
}
extension PasswordHasher.Busy: HTTPResponseError {}
extension LinkNotValid: HTTPResponseError {}
extension SignInRefused: HTTPResponseError {}
extension SignInThrottled: HTTPResponseError {}

extension HTTPError {
    /// Any domain error not listed above, rendered the same way.
    init(_ error: any DomainError) {
        var headers = HTTPHeaders()
        if let seconds = error.retryAfterSeconds { headers.set("Retry-After", String(seconds)) }
        self.init(
            error.refusal.status, title: error.headline, detail: error.detail, fieldErrors: error.fieldErrors,
            headers: headers, extensionMembers: error.extensionMembers)
    }
}

struct DatabaseErrorMapping: Middleware {
    func handle(_ request: Request, next: Next) throws -> Response {
        do {
            return try next(request)
        } catch let error as any DomainError where !(error is any HTTPResponseError) {
            throw HTTPError(error)
        } catch let error as PostgresError {
            if error.isUniqueViolation {
                throw HTTPError(.conflict, detail: "That already exists.")
            }
            // Class 22, data exceptions: a value PostgreSQL cannot take (a NUL in text, a number out of range).
            if error.isCheckViolation || error.isNotNullViolation || error.isForeignKeyViolation
                || error.sqlState?.hasPrefix("22") == true
            {
                throw HTTPError(.unprocessableContent, detail: "The values break a rule of the data.")
            }
            // isConnectionLoss: also a server shutting down, or a primary demoted by failover (25006).
            if error.isConnectionLoss || error.kind == .poolTimeout || error.kind == .closed {
                throw HTTPError(
                    .serviceUnavailable, detail: "The database is not answering; try again shortly.",
                    headers: HTTPHeaders([("Retry-After", "5")]))
            }
            throw error
        }
    }
}
