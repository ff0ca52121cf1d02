// After a page form is handled on this node (a role changed, a membership accepted, a password
// changed, sessions ended, tokens revoked), the visitors and tokens this node remembers are
// forgotten before the answer goes out, so the next request here — anyone's — is checked against
// what is now true. Other nodes hear of it by NOTIFY; this node must not wait for its own notice,
// which may arrive after the person's next click. Forms are rare beside page views and API calls,
// so the cost is one re-read of each visitor and token after each.
import Foundation
import HTTPServer

struct VisitorRefresh: Middleware {
    let visitors: VisitorCache
    let tokens: TokenStore

    func handle(_ request: Request, next: Next) throws -> Response {
        guard request.method != .get, request.method != .head, !request.path.hasPrefix("/api/") else { return try next(request) }
        defer {
            visitors.forgetAll()
            tokens.forgetAll()
        }
        return try next(request)
    }
}
