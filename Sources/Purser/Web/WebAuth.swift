// The pages' side of identity: the session cookie read into a Visitor, the redirects that send
// people to sign in (and back), the second-factor gates, form tokens on every POST, and the
// tenant named in `/t/{slug}/…` resolved to one the person may see — any other is a 404.
import Crypto
import Foundation
import HTTPServer
import Postgres

public final class WebAuth: Sendable {
    /// The pre-session cookie's name over plain http (`__Host-purser_pre` under https).
    public static let preSessionCookie = "purser_pre"
    let sessions: SessionStore
    let database: Database
    let keyring: Keyring
    /// Visitors this node remembers until a notice says they changed (nil: read every time).
    let visitors: VisitorCache?

    public convenience init(sessions: SessionStore, database: Database, keyring: Keyring) {
        self.init(sessions: sessions, database: database, keyring: keyring, visitors: nil)
    }

    init(sessions: SessionStore, database: Database, keyring: Keyring, visitors: VisitorCache?) {
        self.sessions = sessions
        self.database = database
        self.keyring = keyring
        self.visitors = visitors
    }

    /// The visitor behind the session cookie, or nil.
    public func visitor(_ request: Request) throws -> Visitor? {
        guard let token = request.cookie(sessions.sessionCookieName), !token.isEmpty else { return nil }
        return try visitor(sessionToken: token, mayBlock: request.mayBlock)
    }

    /// The visitor for a session token (a cookie's value, or one just issued). A remembered one
    /// is answered without the database while its session is within its lifetime and its
    /// activity stamp is less than a minute old; otherwise (WouldBlock on an I/O thread) it is read.
    public func visitor(sessionToken token: String, mayBlock: Bool = true) throws -> Visitor? {
        guard RandomSecret.isWellFormed(token) else { return nil }
        let key = RandomSecret.encodeBase64url(RandomSecret.hash(token))
        let moment = sessions.clock.now
        if let entry = visitors?.entry(key), entry.expiresAt > moment,
            moment.timeIntervalSince(entry.lastSeen) < min(60, sessions.settings.idleTimeout)
        {
            return entry.visitor
        }
        guard mayBlock else { throw WouldBlock() }
        let generation = visitors?.generation()
        guard let found = try sessions.found(token: token) else { return nil }
        let session = found.session
        var elevations: [Elevation] = []
        let tenants = try database.asUser(session.user) { tx in
            elevations = try Elevation.load(
                user: session.user, isStaff: session.staffRole != nil, hasSecondFactor: session.totpEnabled, at: moment, in: tx)
            return try tx.query(
                """
                SELECT t.id, t.slug, t.key, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
                WHERE m.user_id = $1 AND m.status = 'active' AND t.status = 'active' ORDER BY t.name
                """, [session.user]
            ).map { row in
                TenantMembership(
                    id: try row.require(0), slug: try row.require(1), key: try row.require(2),
                    name: try row.require(3), role: CustomerRole(rawValue: try row.require(4)))
            }
        }
        var visitor = Visitor(session: session, tenants: tenants, formToken: formToken(binding: "session|" + session.id.postgresText))
        visitor.elevations = elevations
        if let generation {
            visitors?.keep(
                VisitorCache.Entry(visitor: visitor, expiresAt: found.expiresAt, lastSeen: found.lastSeen), for: key,
                generation: generation)
        }
        return visitor
    }

    /// The signed-in visitor; anyone else is sent to sign in and brought back. A session still owing
    /// its second factor goes to that step; one that must set up a second factor goes there.
    public func signedIn(_ request: Request, allowEnrolment: Bool = false) throws -> Visitor {
        guard let visitor = try visitor(request) else {
            var headers: [(name: String, value: String)] = []
            if request.cookie(sessions.sessionCookieName) != nil {
                headers.append(("Set-Cookie", sessions.clearingCookie().headerValue))
            }
            let back = request.method == .get ? request.pathWithQuery : SitePage.home.url.path
            throw Redirect(to: SiteURL.signIn(back: back).path, headers: headers)
        }
        if visitor.session.stage == .secondFactor { throw Redirect(to: SitePage.signInTwoFactor.url.path) }
        if visitor.mustEnrolSecondFactor && !allowEnrolment { throw Redirect(to: SitePage.twoFactor.url.path) }
        return visitor
    }

    /// A signed-in staff member; for anyone else the staff pages do not exist (404).
    public func staff(_ request: Request) throws -> Visitor {
        let visitor = try signedIn(request)
        guard visitor.isStaff else { throw HTTPError(.notFound) }
        return visitor
    }

    /// The form fields of a POST from `visitor`'s session, after checking its form token.
    public func form(_ request: Request, from visitor: Visitor) throws -> QueryParameters {
        let form = try request.form()
        try checkFormToken(form["csrf"], for: visitor)
        return form
    }

    /// Checks a form token sent another way (a multipart upload's `csrf` part).
    public func checkFormToken(_ sent: String?, for visitor: Visitor) throws {
        guard let sent, constantTimeEquals(sent, visitor.formToken) else { throw FormExpired() }
    }

    /// The tenant named by the route's `{tenant}` segment, if the visitor may see it: a member, or
    /// staff. Anything else is a 404 — the same answer as a tenant that does not exist.
    public func tenant(_ request: Request, for visitor: Visitor) throws -> TenantMembership {
        let slug = try request.parameter("tenant")
        if let membership = visitor.tenants.first(where: { $0.slug == slug }) { return membership }
        guard visitor.isStaff,
            let row = try database.pool.query(
                "SELECT id, slug, key, name FROM tenants WHERE slug = $1", [slug]
            ).first
        else { throw HTTPError(.notFound) }
        return TenantMembership(
            id: try row.require(0), slug: try row.require(1), key: try row.require(2),
            name: try row.require(3), role: nil)
    }

    // MARK: Before a session exists (the sign-in form)

    /// A form token for the sign-in form, bound to a random pre-session cookie, so that another
    /// site cannot sign a browser in to an account of its choosing.
    public func preSession(_ request: Request) -> (token: String, cookie: SetCookie?) {
        if let existing = request.cookie(sessions.cookieName(Self.preSessionCookie)), RandomSecret.isWellFormed(existing) {
            return (formToken(binding: "pre|" + existing), nil)
        }
        let value = RandomSecret.base64url(32)
        return (
            formToken(binding: "pre|" + value),
            sessions.setCookie(Self.preSessionCookie, value: value)
        )
    }

    /// The sign-in form's fields after checking its token against the pre-session cookie.
    public func preSessionForm(_ request: Request) throws -> QueryParameters {
        let form = try request.form()
        guard let cookie = request.cookie(sessions.cookieName(Self.preSessionCookie)), RandomSecret.isWellFormed(cookie),
            let sent = form["csrf"], constantTimeEquals(sent, formToken(binding: "pre|" + cookie))
        else {
            throw FormExpired()
        }
        return form
    }

    private func formToken(binding: String) -> String {
        RandomSecret.encodeBase64url(keyring.authenticate(Array(("purser-form|" + binding).utf8)).tag)
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~/"))) ?? "/"
    }
}

extension Request {
    /// The path with its query string, as the browser asked for it.
    var pathWithQuery: String {
        query.pairs.isEmpty
            ? path
            : path + "?"
                + query.pairs.map {
                    WebAuth.escape($0.name) + "=" + WebAuth.escape($0.value)
                }.joined(separator: "&")
    }
}
