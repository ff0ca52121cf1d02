// What the gate adds to every API operation's answers, written once here rather than beside each
// route: the refusals the gate, the body checks and the database seam can give, and the RateLimit
// fields on every answer the gate lets through (and Purser-Primary-Until on every write's, which
// ReadYourWrites adds where a replica serves reads). The OpenAPI document is built from the completed
// operations, so a new route is described with its gate's answers without repeating them.
import HTTPServer

enum APIDocumentation {
    static let rateLimitHeaders = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]

    /// `route` with its operation completed; a route without one, or a public one, is left as it is.
    static func complete(_ route: Route) -> Route {
        guard let operation = route.operation, operation.scopes != nil else { return route }
        let writes = [.post, .put, .patch, .delete].contains(route.method)
        return Route(
            route.method, route.template, options: route.options, operation: complete(operation, writes: writes),
            handler: route.handler)
    }

    /// The answers every bearer operation can give besides its own; `writes` for a POST, PUT, PATCH
    /// or DELETE, whose successful answers may carry the read-your-writes marker.
    static func complete(_ operation: HTTPServer.Operation, writes: Bool = false) -> HTTPServer.Operation {
        var operation = operation
        let query = operation.parameters.filter { $0.location == .query }
        let takesTenant = query.contains { $0.name == "tenant" }
        let hasPathParameters = operation.parameters.contains { $0.location == .path }
        let idempotent = operation.parameters.contains { $0.location == .header && $0.name == "Idempotency-Key" }
        let readsOwnWrites = operation.parameters.contains { $0.location == .header && $0.name == ReadYourWrites.header }
        let jsonBody = operation.requestBody != nil && operation.requestContentTypes == ["application/json"]

        var answers: [(Int, String)] = [
            (
                400,
                "A query parameter the operation does not take (named in `errors`)"
                    + (takesTenant ? ", or a staff token that names no tenant where the operation needs one." : ".")
            ),
            (401, "No token, or a malformed, unknown, expired or revoked one."),
        ]
        if operation.scopes?.isEmpty == false { answers.append((403, "The token lacks the scope, or its owner the permission.")) }
        if takesTenant || hasPathParameters {
            answers.append(
                (
                    404,
                    hasPathParameters
                        ? "Nothing of that id in the tenant, or a tenant the token cannot see."
                        : "A tenant the token cannot see."
                ))
        }
        if operation.requestBody != nil {
            answers.append((413, "A body larger than the operation takes."))
            answers.append((415, jsonBody ? "A body that is not application/json." : "A body of a type the operation does not take."))
        }
        if jsonBody { answers.append((400, "Malformed JSON, a mistyped value or a field the body does not take (named in `errors`).")) }
        if readsOwnWrites { answers.append((400, "A \(ReadYourWrites.header) that is not 1 to 12 digits (named in `errors`).")) }
        if idempotent {
            answers.append((409, "A request with the same Idempotency-Key is still running."))
            answers.append((422, "An Idempotency-Key reused with another body."))
        }
        if query.contains(where: \.refusesEmpty) {
            answers.append((422, "An empty value for a parameter with a set of values or a format (named in `errors`)."))
        }
        answers.append((429, "The token's or the tenant's rate limit is used up; retry after Retry-After seconds."))
        answers.append((503, "The database is not answering; retry after Retry-After seconds."))

        for (status, description) in answers {
            if let index = operation.responses.firstIndex(where: { $0.status == status }) {
                let declared = operation.responses[index].description
                if !declared.contains(description) {
                    operation.responses[index].description = declared + " " + description
                }
            } else {
                operation.responses.append(.problem(status, description))
            }
        }
        for index in operation.responses.indices {
            let status = operation.responses[index].status
            var headers = operation.responses[index].headers
            switch status {
            case 200..<300: headers += rateLimitHeaders + (writes ? [ReadYourWrites.header] : [])
            case 401: headers += ["WWW-Authenticate"]
            case 429: headers += ["Retry-After"] + rateLimitHeaders
            case 503: headers += ["Retry-After"]
            default: break
            }
            var seen = Set<String>()
            operation.responses[index].headers = headers.filter { seen.insert($0).inserted }
        }
        operation.responses.sort { $0.status < $1.status }
        return operation
    }
}
