// The gate's reading of `Authorization: Bearer …`: the header is HTTP, so it is parsed here and
// only the token's text reaches the store.
import HTTPServer

extension TokenStore {
    /// The identity behind the request's `Authorization: Bearer …` header. Session cookies never count here.
    public func authenticate(_ request: Request, requiring scope: Scope? = nil) throws -> TokenIdentity {
        guard let header = request.headers["Authorization"] else { throw Unauthenticated(why: "Send a token: Authorization: Bearer pur_…") }
        // `Bearer <token>`, the scheme in any case (RFC 9110 §11.1).
        guard header.utf8.count > 7, String(header.utf8.prefix(7))?.caseInsensitiveEquals("Bearer ") == true else {
            throw Unauthenticated(why: "The Authorization header does not hold a Purser token.")
        }
        return try authenticate(token: String(header.utf8.dropFirst(7))!, requiring: scope, mayBlock: request.mayBlock)
    }
}
