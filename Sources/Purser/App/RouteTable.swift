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

    public init() {}

    /// Adds a route; an API route's document names the scope its access declares.
    public mutating func add(_ method: HTTPMethod, _ template: String, access: RouteAccess, options: RouteOptions = RouteOptions(),
                             operation: Operation? = nil, handler: @escaping Handler) {
        var operation = operation
        if case .scope(let scope) = access { operation?.scopes = scope.map { [$0.rawValue] } ?? [] }
        entries.append(TableRoute(route: Route(method, template, options: options, operation: operation, handler: handler),
                                  access: access))
    }

    /// Routes made elsewhere (tests plant some), with their access.
    public mutating func add(_ route: Route, access: RouteAccess) {
        entries.append(TableRoute(route: route, access: access))
    }
}
