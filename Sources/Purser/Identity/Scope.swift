// What an API token may do. Every API route names its scope in the OpenAPI document.
import Foundation

public enum Scope: String, CaseIterable, Sendable, Codable {
    case requestsRead = "requests:read"
    case requestsWrite = "requests:write"
    case deploymentsRead = "deployments:read"
    case deploymentsWrite = "deployments:write"
    case approvalsWrite = "approvals:write"
    case accessRequest = "access:request"
    case accessApprove = "access:approve"
    case usageWrite = "usage:write"
    case costsRead = "costs:read"
    case reportsRead = "reports:read"
    case notificationsRead = "notifications:read"
    case admin

    /// Parses `requests:read,requests:write`; nil names the first unknown scope.
    public static func parseList(_ text: String) -> Result<[Scope], UnknownScope> {
        var scopes: [Scope] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            guard let scope = Scope(rawValue: part) else { return .failure(UnknownScope(name: part)) }
            if !scopes.contains(scope) { scopes.append(scope) }
        }
        return .success(scopes)
    }

    public struct UnknownScope: Error, Equatable {
        public let name: String
    }
}
