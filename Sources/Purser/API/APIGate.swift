// The one way into an API handler: the bearer token (never a cookie), its scope, the tenant the
// request is about (a customer token's own; a staff token names it with `?tenant=slug`), the rate
// limits of the token and its tenant, and Idempotency-Key on POST. Handlers get an APICaller.
import Foundation
import HTTPServer
import Postgres

/// Who is calling the API, for which tenant, with which permissions.
public struct APICaller: Sendable {
    public let identity: TokenIdentity
    public let tenant: UUID?
    /// The World's time of the call, which the owner's elevations are judged at.
    public var moment: Date? = nil

    public var principal: Principal {
        let principal = Principal(user: identity.user, tenantRole: identity.tenantRole, staffRole: identity.staffRole, tenant: tenant)
        guard let moment, !identity.elevations.isEmpty else { return principal }
        return principal.elevated(by: identity.elevations, at: moment)
    }

    public func require(_ permission: Permission) throws { try principal.require(permission) }
}

public final class APIGate: Sendable {
    public enum TenantNeed: Sendable { case none, required }

    let tokens: TokenStore
    let limiter: RateLimiter
    let idempotency: IdempotencyStore
    let database: Database
    /// Slugs read lately, with when (a monotonic instant: how long an entry is kept is a duration).
    private let slugs = Locked<[String: (id: UUID, loaded: ContinuousClock.Instant)]>([:])
    private let purgeCounter = Locked(0)

    public init(tokens: TokenStore, limiter: RateLimiter, idempotency: IdempotencyStore, database: Database) {
        self.tokens = tokens
        self.limiter = limiter
        self.idempotency = idempotency
        self.database = database
    }

    /// The scope the matched route declares (RouteTable puts its access into the route's document);
    /// nil when it takes any valid token.
    static func declaredScope(_ request: Request) -> Scope? {
        request.operation?.scopes?.first.flatMap(Scope.init(rawValue:))
    }

    /// The `tenant` query parameter, documented on every route that takes it.
    public static let tenantParameter = Operation.Parameter(
        "tenant", in: .query, description: "The tenant's slug. Staff tokens must name it; a customer token's own tenant is implied.")

    /// Runs `body` for an authenticated, permitted, rate-limited caller and adds the RateLimit
    /// fields to its answer. On an I/O thread, anything that needs the database throws WouldBlock.
    /// The scope is the one the route declares in the route table (written into its document).
    public func handle(
        _ request: Request, tenant need: TenantNeed = .none,
        _ body: (APICaller) throws -> Response
    ) throws -> Response {
        let identity = try tokens.authenticate(request, requiring: Self.declaredScope(request))
        try Self.checkQuery(request)
        let tenant = try resolveTenant(request, identity, need)
        let state = try limiter.take(identity.buckets, mayBlock: request.mayBlock)
        let caller = APICaller(identity: identity, tenant: tenant, moment: tokens.clock.now)
        var response: Response
        do {
            if request.method == .post, let key = try IdempotencyStore.key(request) {
                guard request.mayBlock else { throw WouldBlock() }
                response = try idempotent(request, key: key, owner: IdempotencyStore.owner(token: identity.tokenID, tenant: tenant)) {
                    try body(caller)
                }
            } else {
                response = try body(caller)
            }
        } catch let error as WouldBlock {
            // Run again on a worker, which takes its own token: this one goes back, so a request counts once.
            limiter.giveBack(identity.buckets)
            throw error
        }
        // The handler's answer never carries these itself.
        for field in state.headers { response.headers.add(field.name, field.value) }
        return response
    }

    /// Holds the query to what the route's operation declares, as `decode(_:fields:)` holds a JSON
    /// body to its fields: a parameter the route does not take is a 400 naming it (a misspelt filter
    /// would otherwise answer everything), and an empty value for one with an enumeration or a
    /// format is a 422 naming it (an empty choice is no choice; pages, not the API, read it as "any").
    static func checkQuery(_ request: Request) throws {
        guard let operation = request.operation, !request.query.pairs.isEmpty else { return }
        var unknown: [String] = []
        var empty: [String] = []
        for (name, value) in request.query.pairs {
            guard let declared = operation.queryParameter(name) else {
                if !unknown.contains(name) { unknown.append(name) }
                continue
            }
            if value.isEmpty, declared.refusesEmpty, !empty.contains(name) { empty.append(name) }
        }
        if let first = unknown.first {
            let taken = operation.parameters.filter { $0.location == .query }.map(\.name)
            throw HTTPError(
                .badRequest, title: "Unknown parameter",
                detail: "'\(first)' is not a parameter of this route"
                    + (taken.isEmpty ? "; it takes none." : "; it takes \(taken.joined(separator: ", "))."),
                fieldErrors: unknown.map { FieldError(field: $0, detail: "is not a parameter of this route") })
        }
        if let first = empty.first {
            throw HTTPError(
                .unprocessableContent, title: "Empty parameter",
                detail: "'\(first)' is empty; leave it out or give one of its values.",
                fieldErrors: empty.map { FieldError(field: $0, detail: "must not be empty") })
        }
    }

    private func idempotent(_ request: Request, key: String, owner: String, _ body: () throws -> Response) throws -> Response {
        let route = IdempotencyStore.route(method: request.method.rawValue, path: request.path)
        switch try idempotency.begin(owner: owner, route: route, key: key, body: request.body) {
        case .replay(let response): return response
        case .proceed: break
        }
        if purgeCounter.withLock({
            $0 += 1; return $0 % 1000 == 0
        }) {
            try? idempotency.purgeExpired()
        }
        do {
            let response = try body()
            try idempotency.finish(owner: owner, route: route, key: key, response: response)
            return response
        } catch let error as HTTPResponseError where error.status.rawValue < 500 {
            // A refusal is an answer too: the retry gets the same one.
            let problem = Problem(
                status: error.status, title: error.title, detail: error.detail,
                fieldErrors: error.fieldErrors, requestID: request.requestID, extensionMembers: error.extensionMembers)
            try idempotency.finish(owner: owner, route: route, key: key, response: Problem.problemResponse(problem))
            throw error
        } catch {
            try? idempotency.finish(owner: owner, route: route, key: key, response: nil)
            throw error
        }
    }

    private func resolveTenant(_ request: Request, _ identity: TokenIdentity, _ need: TenantNeed) throws -> UUID? {
        let named = request.query["tenant"]
        if let bound = identity.tenant {
            // A customer token speaks for its own tenant; naming another finds nothing there.
            if let named, try slugID(named, mayBlock: request.mayBlock) != bound { throw HTTPError(.notFound) }
            return bound
        }
        // Bound to no tenant and not staff (a customer's token made without one, or an owner no
        // longer staff): it speaks for no tenant, so every tenant it names is one it cannot find —
        // the same 404 as a slug that does not exist, and nothing recorded in that tenant's chain.
        guard identity.staffRole != nil else {
            if need == .required || !(named ?? "").isEmpty { throw HTTPError(.notFound) }
            return nil
        }
        guard let named, !named.isEmpty else {
            if need == .required {
                throw HTTPError(.badRequest, detail: "A staff token names the tenant: add ?tenant=<slug>.")
            }
            return nil
        }
        guard let id = try slugID(named, mayBlock: request.mayBlock) else { throw HTTPError(.notFound) }
        return id
    }

    /// A tenant's id by slug, cached for a minute (slugs never change).
    private func slugID(_ slug: String, mayBlock: Bool) throws -> UUID? {
        if let cached = slugs.withLock({ $0[slug] }), cached.loaded.duration(to: .now) < .seconds(60) { return cached.id }
        guard mayBlock else { throw WouldBlock() }
        guard let id = try database.pool.query("SELECT id FROM tenants WHERE slug = $1", [slug]).first?.require(0, as: UUID.self)
        else { return nil }
        slugs.withLock { all in
            if all.count > 10_000 { all.removeAll() }
            all[slug] = (id, ContinuousClock.now)
        }
        return id
    }
}
