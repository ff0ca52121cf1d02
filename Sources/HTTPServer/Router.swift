// Maps a method and path to a route, telling "no such path" (404) from "not this method" (405).

public struct Router: Sendable {
    /// Routes without parameters, by exact path then method: the common case is one dictionary lookup.
    private var literal: [String: [HTTPMethod: Route]] = [:]
    private var parameterized: [(segments: [Segment], routes: [HTTPMethod: Route])] = []
    public private(set) var routes: [Route] = []
    /// A handler for paths under a prefix that no route claims (static files).
    private var prefixes: [(prefix: String, route: Route)] = []

    public init() {}

    public mutating func add(_ route: Route) {
        routes.append(route)
        let segments = route.segments
        if segments.allSatisfy({ if case .literal = $0 { true } else { false } }) {
            let path = "/" + segments.map { if case .literal(let s) = $0 { s } else { "" } }.joined(separator: "/")
            literal[path, default: [:]][route.method] = route
        } else if let index = parameterized.firstIndex(where: { $0.segments == segments }) {
            parameterized[index].routes[route.method] = route
        } else {
            parameterized.append((segments, [route.method: route]))
        }
    }

    public mutating func add(
        _ method: HTTPMethod, _ template: String, options: RouteOptions = RouteOptions(),
        operation: Operation? = nil, handler: @escaping Handler
    ) {
        add(Route(method, template, options: options, operation: operation, handler: handler))
    }

    /// Sends every GET under `prefix` (e.g. `/static/`) to `route`, which reads the rest of the path itself.
    public mutating func addPrefix(_ prefix: String, _ route: Route) {
        prefixes.append((prefix, route))
    }

    public enum Match {
        case found(Route, parameters: [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    public func match(_ method: HTTPMethod, _ path: String) -> Match {
        let lookup = method == .head ? .get : method
        let trimmed = path.utf8.count > 1 && path.utf8.last == UInt8(ascii: "/") ? String(path.dropLast()) : path
        if let byMethod = literal[trimmed] {
            return pick(byMethod, lookup, [:])
        }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: true)
        for entry in parameterized where entry.segments.count == parts.count {
            var parameters: [String: String] = [:]
            var matches = true
            for (segment, part) in zip(entry.segments, parts) {
                switch segment {
                case .literal(let text) where text == part: continue
                case .parameter(let name): parameters[name] = String(part)
                default: matches = false
                }
                if !matches { break }
            }
            if matches { return pick(entry.routes, lookup, parameters) }
        }
        for entry in prefixes where path.hasPrefix(entry.prefix) {
            return lookup == .get ? .found(entry.route, parameters: [:]) : .methodNotAllowed(allowed: [.get, .head])
        }
        return .notFound
    }

    private func pick(_ byMethod: [HTTPMethod: Route], _ method: HTTPMethod, _ parameters: [String: String]) -> Match {
        if let route = byMethod[method] { return .found(route, parameters: parameters) }
        var allowed = Array(byMethod.keys)
        if byMethod[.get] != nil { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue })
    }
}
