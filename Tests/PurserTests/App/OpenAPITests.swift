import Foundation
import Purser
import Testing
import TestSupport

/// The document is validated by a real OpenAPI validator, and the running server is checked
/// against it by schemathesis, so the two cannot drift apart.
@Suite struct OpenAPITests {
    @Test func theDocumentIsValidOpenAPI31() throws {
        let app = try TestApp()
        let response = try app.get("/api/openapi.json")
        #expect(response.status == 200)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString).json")
        try Data(response.body).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let python = try TestEnvironment.venvBin("python")
        let result = try Subprocess.run(python, ["-c", """
            import json, sys
            from openapi_spec_validator import validate
            from openapi_spec_validator.validation import OpenAPIV31SpecValidator
            document = json.load(open(sys.argv[1]))
            validate(document, cls=OpenAPIV31SpecValidator)
            assert document["openapi"] == "3.1.0"
            print("valid", len(document["paths"]))
            """, file.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("valid"))
    }

    @Test func everyDocumentedPathIsARegisteredRoute() throws {
        let app = try TestApp()
        let document = try JSONSerialization.jsonObject(with: Data(try app.get("/api/openapi.json").body)) as? [String: Any]
        let paths = try #require(document?["paths"] as? [String: [String: Any]])
        #expect(Set(paths.keys).isSuperset(of: ["/healthz", "/readyz", "/api/openapi.json"]))
        let registered = Set(app.app.server.router.routes.map { "\($0.method.rawValue.lowercased()) \($0.template)" })
        for (path, operations) in paths {
            for method in operations.keys {
                #expect(registered.contains("\(method) \(path)"), "\(method) \(path) is documented but not routed")
            }
        }
        for route in app.app.server.router.routes where route.template.hasPrefix("/api/") {
            #expect(route.operation != nil, "\(route.template) is routed but not documented")
        }
    }

    @Test func theServerConformsToTheDocument() throws {
        let app = try TestApp()
        // Authenticated as a customer whose token holds every scope, so each route is exercised past its gate.
        let people = try People(app)
        // (Made with what a requester may hold, then given every scope, as a token from before scopes
        // followed roles could have: the routes' own permission checks still apply.)
        let made = try app.app.tokens.create(user: people.id("requester@acme.test"), tenant: people.tenant, name: "schemathesis",
                                             scopes: [.requestsRead], lifetime: 3600, by: .system, actorID: nil)
        try app.database.connect().query("UPDATE api_tokens SET scopes = $2 WHERE id = $1", [made.id, Scope.allCases.map(\.rawValue)])
        let token = made.token
        let schemathesis = try TestEnvironment.venvBin("schemathesis")
        let result = try Subprocess.run(schemathesis, [
            "--config-file", TestEnvironment.root.appendingPathComponent("Tests/schemathesis.toml").path,
            "run", app.baseURL + "/api/openapi.json", "--checks", "all", "--workers", "1",
            "--max-examples", "25", "--max-time", "30", "--header", "Authorization: Bearer \(token)",
            // A fixed seed, so a run fails only on a change; PURSER_SCHEMATHESIS_SEED explores others.
            "--seed", ProcessInfo.processInfo.environment["PURSER_SCHEMATHESIS_SEED"] ?? "20261127",
        ], environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "SCHEMATHESIS_TELEMETRY": "false"])
        #expect(result.status == 0, "\(result.output.suffix(4000))")
    }
}
