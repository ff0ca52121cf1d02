// Every route Purser serves, as values: method, path, who may call it, options, API document, handler.
// Feature blocks add their routes here; App/Routes.swift lists the blocks and hands the table to the
// router, the one place routes are registered. A route cannot be added without saying who may call
// it, and the tests read the table: every API route has its document and scope, the isolation walk
// asks every route, and the permission walk holds each declaration to what the route does.
import HTTPServer

/// Who may call a route, declared where the route is.
public enum RouteAccess: Sendable, Equatable {
    /// Anyone, signed in or not (signing in, health, the API document): answers hold no tenant's data.
    case everyone
    /// Any signed-in person, for themselves (their account, their tenants).
    case signedIn
    /// Provider staff, whatever their role (customers are told such pages do not exist).
    case staff
    /// A page for people holding the permission — in the tenant its path names, or as staff.
    case permission(Permission)
    /// An API route: a bearer token with the scope (nil: any valid token); the handler then checks
    /// the permission of the person the token speaks for.
    case scope(Scope?)
}

public struct TableRoute: Sendable {
    public let route: Route
    public let access: RouteAccess

    public init(route: Route, access: RouteAccess) {
        self.route = route
        self.access = access
    }
}

public struct RouteTable: Sendable {
    public private(set) var entries: [TableRoute] = []
    /// What builds the handlers' contexts: the World they carry, the session for pages, the gate for the API.
    let world: World
    let auth: WebAuth?
    let gate: APIGate?

    public init(world: World, auth: WebAuth? = nil, gate: APIGate? = nil) {
        self.world = world
        self.auth = auth
        self.gate = gate
    }

    /// A route anyone may call (signing in, health, the API document); its answers hold no tenant's data.
    /// `operation`: its entry in the API document (health and the document itself have one).
    public mutating func everyone(
        _ method: HTTPMethod, _ page: SitePage, options: RouteOptions = RouteOptions(),
        operation: Operation? = nil, handler: @escaping Handler
    ) {
        add(method, page.template, access: .everyone, options: options, operation: operation, handler: handler)
    }

    /// A signed-in person's own page. `allowEnrolment`: also for a session that must still set up
    /// its second factor (the pages that do so).
    public mutating func signedIn(
        _ method: HTTPMethod, _ page: SitePage, options: RouteOptions = RouteOptions(),
        allowEnrolment: Bool = false, handler: @escaping @Sendable (PageContext) throws -> Response
    ) {
        let (auth, world) = (requireAuth(), world)
        add(method, page.template, access: .signedIn, options: options) { request in
            try handler(
                PageContext(world: world, request: request, visitor: try auth.signedIn(request, allowEnrolment: allowEnrolment), auth: auth)
            )
        }
    }

    /// A staff page: for any staff member, or those whose staff role holds `permission`. Customers
    /// are told it does not exist (404); staff without the permission are refused (403).
    public mutating func staff(
        _ method: HTTPMethod, _ page: SitePage, permission: Permission? = nil,
        options: RouteOptions = RouteOptions(), handler: @escaping @Sendable (PageContext) throws -> Response
    ) {
        let (auth, world) = (requireAuth(), world)
        add(method, page.template, access: permission.map { .permission($0) } ?? .staff, options: options) { request in
            let context = PageContext(world: world, request: request, visitor: try auth.staff(request), auth: auth)
            if let permission { try context.principal.require(permission) }
            return try handler(context)
        }
    }

    /// A page of the tenant its path names, for people holding `permission` there (nil: any member)
    /// or staff whose role holds it. Another tenant's page, or one that does not exist, is a 404;
    /// so is a page whose permission only staff hold, to a customer.
    public mutating func tenant(
        _ method: HTTPMethod, _ page: SitePage, permission: Permission?,
        options: RouteOptions = RouteOptions(), handler: @escaping @Sendable (TenantContext) throws -> Response
    ) {
        precondition(page.template.hasPrefix("/t/{tenant}"), "a tenant page lives under /t/{tenant}: \(page)")
        let (auth, world) = (requireAuth(), world)
        add(method, page.template, access: permission.map { .permission($0) } ?? .signedIn, options: options) { request in
            let visitor = try auth.signedIn(request)
            let context = TenantContext(
                world: world, request: request, visitor: visitor, tenant: try auth.tenant(request, for: visitor), auth: auth)
            if let permission, !context.principal.can(permission) {
                // A permission no customer role holds makes a staff page: to customers it does not exist.
                if !CustomerRole.allCases.contains(where: { $0.permissions.contains(permission) }) { throw HTTPError(.notFound) }
                try context.principal.require(permission)
            }
            return try handler(context)
        }
    }

    /// An API route: a bearer token with `scope` (nil: any valid token), through the gate (tenant,
    /// rate limits, idempotency). The document names the scope; the handler checks permissions.
    public mutating func api(
        _ method: HTTPMethod, _ path: APIPath, scope: Scope?, tenant need: APIGate.TenantNeed = .none,
        options: RouteOptions = RouteOptions(), operation: Operation,
        handler: @escaping @Sendable (APIContext) throws -> Response
    ) {
        guard let gate else { preconditionFailure("API routes need the table made with the gate") }
        let world = world
        add(method, path.template, access: .scope(scope), options: options, operation: operation) { request in
            try gate.handle(request, tenant: need) { caller in try handler(APIContext(world: world, request: request, caller: caller)) }
        }
    }

    private func requireAuth() -> WebAuth {
        guard let auth else { preconditionFailure("pages need the table made with the session reader") }
        return auth
    }

    /// Adds a route by its template; an API route's document names the scope its access declares.
    private mutating func add(
        _ method: HTTPMethod, _ template: String, access: RouteAccess, options: RouteOptions = RouteOptions(),
        operation: Operation? = nil, handler: @escaping Handler
    ) {
        var operation = operation
        if case .scope(let scope) = access { operation?.scopes = scope.map { [$0.rawValue] } ?? [] }
        entries.append(
            TableRoute(
                route: Route(method, template, options: options, operation: operation, handler: handler),
                access: access))
    }

    /// Routes made elsewhere (tests plant some), with their access.
    public mutating func add(_ route: Route, access: RouteAccess) {
        entries.append(TableRoute(route: route, access: access))
    }
}
