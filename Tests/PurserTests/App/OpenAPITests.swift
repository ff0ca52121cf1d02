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
        let result = try Subprocess.run(
            python,
            [
                "-c",
                """
                import json, sys
                from openapi_spec_validator import validate
                from openapi_spec_validator.validation import OpenAPIV31SpecValidator
                document = json.load(open(sys.argv[1]))
                validate(document, cls=OpenAPIV31SpecValidator)
                assert document["openapi"] == "3.1.0"
                print("valid", len(document["paths"]))
                """, file.path,
            ])
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
        let made = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "schemathesis",
            scopes: [.requestsRead], lifetime: 3600, actor: .system)
        try app.database.connect().query("UPDATE api_tokens SET scopes = $2 WHERE id = $1", [made.id, Scope.allCases.map(\.rawValue)])
        let token = made.token
        let schemathesis = try TestEnvironment.venvBin("schemathesis")
        let environment = ProcessInfo.processInfo.environment
        var arguments = [
            "--config-file", TestEnvironment.root.appendingPathComponent("Tests/schemathesis.toml").path,
            "run", app.baseURL + "/api/openapi.json", "--checks", "all", "--workers", "1",
            "--max-examples", environment["PURSER_SCHEMATHESIS_MAX_EXAMPLES"] ?? "25", "--header", "Authorization: Bearer \(token)",
            // A fixed seed, so a run fails only on a change; `make fuzz` passes fresh ones.
            "--seed", environment["PURSER_SCHEMATHESIS_SEED"] ?? "20261127",
            // No example database: one kept between runs (in the temporary HOME) replays earlier
            // runs' cases, so the same seed would not draw the same cases twice.
            "--generation-database", "none",
        ]
        // A time budget makes schemathesis draw again (seed+1, …) until it runs out, so the cases
        // would depend on the machine's speed: `make test` is bounded by the case count alone.
        if let budget = environment["PURSER_SCHEMATHESIS_MAX_TIME"] { arguments += ["--max-time", budget] }
        let result = try Subprocess.run(
            schemathesis, arguments,
            environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "SCHEMATHESIS_TELEMETRY": "false"])
        // The whole report, for a finding too long for the failure message.
        try? Data(result.output.utf8).write(to: TestEnvironment.artifacts.appendingPathComponent("schemathesis.txt"))
        #expect(result.status == 0, "\(result.output.suffix(4000))")
    }

    // MARK: - A document clients can build on

    typealias Object = [String: Any]

    static func document(_ app: TestApp) throws -> Object {
        try #require(try JSONSerialization.jsonObject(with: Data(try app.get("/api/openapi.json").body)) as? Object)
    }

    /// Every operation as (method, path, operation).
    static func operations(_ document: Object) -> [(method: String, path: String, operation: Object)] {
        let paths = (document["paths"] as? [String: Object]) ?? [:]
        return paths.keys.sorted().flatMap { path in
            (paths[path] ?? [:]).keys.sorted().compactMap { method in
                (paths[path]?[method] as? Object).map { (method, path, $0) }
            }
        }
    }

    /// The component a `{"$ref": "#/components/schemas/NAME"}` names, or nil for any other schema.
    static func refName(_ schema: Any?) -> String? {
        guard let ref = (schema as? Object)?["$ref"] as? String, ref.hasPrefix("#/components/schemas/") else { return nil }
        return String(ref.dropFirst("#/components/schemas/".count))
    }

    static func jsonSchema(of response: Any?, mediaType: String = "application/json") -> Any? {
        (((response as? Object)?["content"] as? Object)?[mediaType] as? Object)?["schema"]
    }

    static func headers(of response: Any?) -> Set<String> {
        Set((((response as? Object)?["headers"] as? Object) ?? [:]).keys)
    }

    /// The refusals an operation can give, from what it declares: the gate's (token, unknown
    /// query parameter, rate limit, database), its tenant and path ids, its enumerations and
    /// formats, its body and its Idempotency-Key.
    static func expectedRefusals(_ operation: Object) -> Set<Int> {
        let security = (operation["security"] as? [Object]) ?? []
        guard let scopes = security.first?["bearer"] as? [String] else { return [] }
        let parameters = (operation["parameters"] as? [Object]) ?? []
        let query = parameters.filter { $0["in"] as? String == "query" }
        var statuses: Set<Int> = [400, 401, 429, 503]
        if !scopes.isEmpty { statuses.insert(403) }
        if parameters.contains(where: { $0["in"] as? String == "path" }) || query.contains(where: { $0["name"] as? String == "tenant" }) {
            statuses.insert(404)
        }
        if query.contains(where: { (($0["schema"] as? Object)?["enum"] ?? ($0["schema"] as? Object)?["format"]) != nil }) {
            statuses.insert(422)
        }
        if operation["requestBody"] != nil { statuses.formUnion([400, 413, 415]) }
        if parameters.contains(where: { $0["in"] as? String == "header" && $0["name"] as? String == "Idempotency-Key" }) {
            statuses.formUnion([409, 422])
        }
        return statuses
    }

    @Test func everyAnswerIsANamedSchemaAndEveryRefusalIsDescribed() throws {
        let app = try TestApp()
        let document = try Self.document(app)
        let schemas = try #require((document["components"] as? Object)?["schemas"] as? Object)
        let operations = Self.operations(document)
        #expect(operations.count >= 17)
        for (method, path, operation) in operations {
            let name = "\(method) \(path)"
            let responses = (operation["responses"] as? Object) ?? [:]
            // A JSON answer is a named schema, so a generated client has one type for it.
            for (status, response) in responses {
                if status.hasPrefix("2"), let schema = Self.jsonSchema(of: response) {
                    let component = Self.refName(schema)
                    #expect(component != nil, "\(name) \(status): its JSON answer is not a $ref to a component schema")
                    if let component { #expect(schemas[component] != nil, "\(name) \(status): no component \(component)") }
                }
                if status.hasPrefix("4") || status.hasPrefix("5") {
                    #expect(
                        Self.refName(Self.jsonSchema(of: response, mediaType: "application/problem+json")) == "Problem",
                        "\(name) \(status) is not a problem+json Problem")
                }
            }
            // (A file upload's body is the file, whichever types it takes.)
            if let body = operation["requestBody"] as? Object, let content = body["content"] as? Object,
                let json = content["application/json"] as? Object, (json["schema"] as? Object)?["format"] as? String != "binary"
            {
                #expect(Self.refName(json["schema"]) != nil, "\(name): its JSON body is not a $ref to a component schema")
            }
            // Every refusal it can give is described.
            let described = Set(responses.keys.compactMap(Int.init))
            let missing = Self.expectedRefusals(operation).subtracting(described)
            #expect(missing.isEmpty, "\(name) does not describe its answers \(missing.sorted())")
            // The headers sent: RateLimit on what the gate lets through, Retry-After on 429 and 503.
            if !Self.expectedRefusals(operation).isEmpty {
                for (status, response) in responses where status.hasPrefix("2") {
                    #expect(
                        Self.headers(of: response).isSuperset(of: ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]),
                        "\(name) \(status) lacks the RateLimit headers")
                }
                #expect(
                    Self.headers(of: responses["429"]).isSuperset(of: [
                        "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
                    ]),
                    "\(name) 429 lacks Retry-After or the RateLimit headers")
                #expect(Self.headers(of: responses["503"]).contains("Retry-After"), "\(name) 503 lacks Retry-After")
            }
            // A created resource says where it is; a request says its version.
            if let created = responses["201"], path.hasPrefix("/api/v1/"), !path.hasSuffix("/comments") {
                #expect(Self.headers(of: created).contains("Location"), "\(name) 201 lacks Location")
            }
            for (status, response) in responses where status.hasPrefix("2") && Self.refName(Self.jsonSchema(of: response)) == "Request" {
                #expect(Self.headers(of: response).contains("ETag"), "\(name) \(status) lacks ETag")
            }
        }
        // Every reference resolves, and every named header is described once.
        let headerComponents = ((document["components"] as? Object)?["headers"] as? Object) ?? [:]
        func walk(_ value: Any, at place: String) {
            if let object = value as? Object {
                if let ref = object["$ref"] as? String {
                    let parts = ref.split(separator: "/").map(String.init)
                    #expect(
                        parts.count == 4 && parts[0] == "#" && parts[1] == "components"
                            && ((parts[2] == "schemas" && schemas[parts[3]] != nil)
                                || (parts[2] == "headers" && headerComponents[parts[3]] != nil)),
                        "\(place): \(ref) does not resolve")
                }
                for (key, inner) in object { walk(inner, at: place + "/" + key) }
            } else if let array = value as? [Any] {
                for (index, inner) in array.enumerated() { walk(inner, at: place + "/\(index)") }
            }
        }
        walk(document, at: "#")
    }

    @Test func oneEntityIsOneSchemaAcrossOperations() throws {
        let app = try TestApp()
        let document = try Self.document(app)
        let schemas = try #require((document["components"] as? Object)?["schemas"] as? Object)
        var byOperation: [String: Object] = [:]
        for (_, _, operation) in Self.operations(document) { byOperation[operation["operationId"] as? String ?? ""] = operation }
        func answer(_ id: String, _ status: String) -> String? {
            Self.refName(Self.jsonSchema(of: (byOperation[id]?["responses"] as? Object)?[status]))
        }
        func body(_ id: String) -> String? {
            Self.refName((((byOperation[id]?["requestBody"] as? Object)?["content"] as? Object)?["application/json"] as? Object)?["schema"])
        }
        func items(_ page: String?) -> String? {
            guard let page, let schema = schemas[page] as? Object else { return nil }
            return Self.refName(((schema["properties"] as? Object)?["items"] as? Object)?["items"])
        }
        #expect(answer("createRequest", "201") == "Request")
        #expect(answer("getRequest", "200") == "Request")
        #expect(answer("updateRequest", "200") == "Request")
        #expect(answer("listRequests", "200") == "RequestPage" && items("RequestPage") == "Request")
        #expect(answer("createRequestComment", "201") == "Comment")
        #expect(answer("listRequestComments", "200") == "CommentPage" && items("CommentPage") == "Comment")
        #expect(answer("createRequestAttachment", "201") == "Attachment")
        #expect(answer("listRequestAttachments", "200") == "AttachmentPage" && items("AttachmentPage") == "Attachment")
        #expect(answer("listTokens", "200") == "TokenPage" && items("TokenPage") == "Token")
        #expect(answer("createToken", "201") == "CreatedToken" && body("createToken") == "NewToken")
        #expect(
            body("createRequest") == "NewRequest" && body("updateRequest") == "RequestChange"
                && body("createRequestComment") == "NewComment")
        #expect(answer("getMe", "200") == "Me")
        #expect(answer("listNotificationDeliveries", "200") == "DeliveryPage" && items("DeliveryPage") == "Delivery")
        #expect(answer("getSLAReport", "200") == "SLAReport")
        // Every list is a page: items and next_cursor, and a cursor to pass back where it pages.
        for (id, operation) in byOperation where id.hasPrefix("list") {
            let page = answer(id, "200")
            let properties = ((page.flatMap { schemas[$0] } as? Object)?["properties"] as? Object) ?? [:]
            #expect(
                page?.hasSuffix("Page") == true && properties["items"] != nil && properties["next_cursor"] != nil,
                "\(id) answers \(page ?? "an unnamed schema"), not a page with items and next_cursor")
            let names = ((operation["parameters"] as? [Object]) ?? []).compactMap { $0["name"] as? String }
            #expect(!names.contains("before") || names.contains("cursor"), "\(id) pages with before instead of cursor")
        }
        // The deliveries' old names are kept one release, marked deprecated.
        let parameters = (byOperation["listNotificationDeliveries"]?["parameters"] as? [Object]) ?? []
        #expect(parameters.first { $0["name"] as? String == "before" }?["deprecated"] as? Bool == true)
        #expect(parameters.first { $0["name"] as? String == "cursor" }?["deprecated"] == nil)
        let deliveryPage = ((schemas["DeliveryPage"] as? Object)?["properties"] as? Object) ?? [:]
        #expect((deliveryPage["next"] as? Object)?["deprecated"] as? Bool == true)
        // No entity is written twice: no two components are the same schema, and no answer or
        // body defines an object of its own (it would be a second type for a client).
        let names = schemas.keys.sorted()
        for (index, first) in names.enumerated() {
            for second in names[(index + 1)...] {
                #expect(
                    !NSDictionary(dictionary: schemas[first] as? Object ?? [:]).isEqual(to: schemas[second] as? Object ?? [:]),
                    "\(first) and \(second) are the same schema")
            }
        }
        // The people, groups and SLA clocks inside entities are components too.
        let request = ((schemas["Request"] as? Object)?["properties"] as? Object) ?? [:]
        #expect(Self.refName(request["requester"]) == "Person")
        let author = ((schemas["Comment"] as? Object)?["properties"] as? Object)?["author"]
        #expect(Self.refName(author) == "Person")
    }

    /// The refusals the document describes are the ones the server gives: each operation is called
    /// without a token, with a query parameter it does not take, and with an empty value for each
    /// parameter with an enumeration or a format, and answers with a status it describes.
    @Test func theServerRefusesAsTheDocumentSays() throws {
        let app = try TestApp()
        let people = try People(app)
        let made = try app.app.tokens.create(
            user: people.id("tenant_admin@acme.test"), tenant: people.tenant, name: "probe",
            scopes: [.requestsRead], lifetime: 3600, actor: .system)
        try app.database.connect().query("UPDATE api_tokens SET scopes = $2 WHERE id = $1", [made.id, Scope.allCases.map(\.rawValue)])
        let document = try Self.document(app)
        var probed = 0
        for (method, path, operation) in Self.operations(document) where !Self.expectedRefusals(operation).isEmpty {
            let described = Set(((operation["responses"] as? Object) ?? [:]).keys.compactMap(Int.init))
            let concrete = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: UUID().uuidString.lowercased(), options: .regularExpression)
            func send(_ query: String, token: Bool = true) throws -> (Int, [String]) {
                let response = try app.send(
                    method.uppercased(), concrete + query,
                    headers: token ? [("Authorization", "Bearer \(made.token)")] : [])
                let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? Object
                #expect(response.header("Content-Type")?.hasPrefix("application/problem+json") == true, "\(method) \(concrete)\(query)")
                return (response.status, ((body?["errors"] as? [Object]) ?? []).compactMap { $0["field"] as? String })
            }
            let anonymous = try send("", token: false)
            #expect(anonymous.0 == 401 && described.contains(401), "\(method) \(path) without a token: \(anonymous.0)")
            let unknown = try send("?purser_probe=1")
            #expect(
                unknown.0 == 400 && unknown.1 == ["purser_probe"] && described.contains(400),
                "\(method) \(path) with an unknown parameter: \(unknown)")
            for parameter in (operation["parameters"] as? [Object]) ?? [] where parameter["in"] as? String == "query" {
                let schema = (parameter["schema"] as? Object) ?? [:]
                guard schema["enum"] != nil || schema["format"] != nil, let name = parameter["name"] as? String else { continue }
                let empty = try send("?\(name)=")
                #expect(empty.0 == 422 && empty.1 == [name] && described.contains(422), "\(method) \(path)?\(name)=: \(empty)")
            }
            probed += 1
        }
        #expect(probed >= 14)
    }
}
