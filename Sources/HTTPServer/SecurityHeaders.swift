// Headers every response carries, whatever produced it (handler, error, static file).

public struct SecurityHeaders: Sendable {
    /// No inline script or style: only files from this origin; no framing by anyone
    /// (`frame-ancestors 'none'` supersedes X-Frame-Options, so that header is not sent).
    public var contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    public var referrerPolicy = "strict-origin-when-cross-origin"
    /// Sent only when Purser is reached over HTTPS.
    public var strictTransportSecurity: String?

    public init(strictTransportSecurity: String? = nil) {
        self.strictTransportSecurity = strictTransportSecurity
    }

    func apply(to headers: inout HTTPHeaders) {
        if !headers.contains("Content-Security-Policy") { headers.add("Content-Security-Policy", contentSecurityPolicy) }
        headers.add("X-Content-Type-Options", "nosniff")
        headers.add("Referrer-Policy", referrerPolicy)
        if let strictTransportSecurity { headers.add("Strict-Transport-Security", strictTransportSecurity) }
    }
}
