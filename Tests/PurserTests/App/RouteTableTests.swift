import Foundation
import HTTPClient
import HTTPServer
@testable import Purser
import Testing
import TestSupport

/// The route table says who may call each route; these hold the declarations to what the routes do.
@Suite struct RouteTableTests {
    @Test func everyAPIRouteHasItsDocumentAndScope() throws {
        let app = try TestApp()
        for entry in app.app.routeTable.entries {
            let name = "\(entry.route.method.rawValue) \(entry.route.template)"
            // The SSH CA's public key and KRL are published to every host, without sign-in (docs/access.md).
            if entry.access == .everyone && [SitePage.sshCAPublicKey.template, SitePage.sshKRL.template].contains(entry.route.template) {
                #expect(entry.route.operation != nil, "\(name) has no OpenAPI operation")
                continue
            }
            if entry.route.template.hasPrefix("/api/v1/") {
                guard case .scope(let scope) = entry.access else { Issue.record("\(name) is an API route without a scope"); continue }
                #expect(entry.route.operation != nil, "\(name) has no OpenAPI operation")
                #expect(entry.route.operation?.scopes == (scope.map { [$0.rawValue] } ?? []), "\(name): the document names its scope")
            } else if case .scope = entry.access {
                Issue.record("\(name) declares a scope but is no API route")
            }
        }
    }

    @Test func routesAreRegisteredInOnePlace() throws {
        let sources = TestEnvironment.root.appendingPathComponent("Sources/Purser")
        let files =
            FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        let registering = try files.filter { file in
            try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8).contains("router.add(")
        }
        // The metrics listener is a server of its own.
        #expect(Set(registering) == ["App/Routes.swift", "App/MetricsEndpoint.swift"], "\(registering.sorted())")
    }

    /// Each tenant page declared for a permission refuses (403) a member of the tenant whose role
    /// lacks it, and does not refuse one whose role holds it.
    @Test func tenantPagesAskForThePermissionTheyDeclare() throws {
        let app = try TestApp()
        let walk = try IsolationWalk(app)
        let viewer = try walk.acme.signedIn("viewer@acme.test", in: app)
        let requester = try walk.acme.signedIn("requester@acme.test", in: app)
        let viewerToken = try viewer.formToken(on: "/account"), requesterToken = try requester.formToken(on: "/account")
        var checked = 0
        for entry in app.app.routeTable.entries where entry.route.template.hasPrefix("/t/{tenant}") {
            guard case .permission(let permission) = entry.access else { continue }
            guard case .success(let path) = IsolationWalk.fill(entry.route.template, with: walk.ours, slug: "acme") else {
                Issue.record("\(entry.route.template) cannot be filled in"); continue
            }
            let lacking =
                !Principal(user: UUID(), tenantRole: .viewer, staffRole: nil, tenant: walk.acme.tenant).can(permission)
                ? (viewer, viewerToken)
                : !Principal(user: UUID(), tenantRole: .requester, staffRole: nil, tenant: walk.acme.tenant).can(permission)
                    ? (requester, requesterToken) : nil
            guard let (person, token) = lacking else { continue }
            let status =
                entry.route.method == .get
                ? try person.get(path).status
                : try person.post(path, [("body", "x"), ("state", "open")], formToken: token).status
            // A permission only staff hold makes a staff page: to customers it does not exist.
            let staffOnly = !CustomerRole.allCases.contains {
                Principal(user: UUID(), tenantRole: $0, staffRole: nil, tenant: walk.acme.tenant).can(permission)
            }
            #expect(
                status == (staffOnly ? 404 : 403),
                "\(entry.route.method.rawValue) \(path) (needs \(permission.rawValue)) answered \(status)")
            checked += 1
        }
        #expect(checked >= 8, "routes checked: \(checked)")
    }
}
