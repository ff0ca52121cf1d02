import HTTPServer
import Testing

/// Named schemas are collected from the operations that use them (and from each other), once,
/// and referred to by `$ref`; deprecated parameters and standard headers are described.
@Suite struct OpenAPIComponentTests {
    let person = SchemaComponent("Person", schema: ["type": "object", "properties": ["name": ["type": "string"]]])

    @Test func componentsAreCollectedOnceAndReferred() {
        let thing = SchemaComponent("Thing", uses: [person], schema: ["type": "object", "properties": ["owner": person.ref]])
        let page = SchemaComponent.page("ThingPage", of: thing)
        let routes = [
            Route(
                .get, "/api/v1/things",
                operation: Operation(
                    id: "listThings", summary: "Things.",
                    parameters: [
                        .init("cursor", in: .query, schema: ["type": "string", "format": "uuid"], description: "Next."),
                        .init("before", in: .query, description: "Old name.", deprecated: true),
                    ],
                    responses: [.init(200, "A page.", component: page, headers: ["RateLimit-Limit", "X-Own"])], scopes: [])
            ) { _ in Response() },
            Route(
                .post, "/api/v1/things",
                operation: Operation(
                    id: "createThing", summary: "A thing.", requestComponent: person,
                    responses: [.init(201, "The thing.", component: thing, headers: ["Location"])], scopes: [])
            ) { _ in Response() },
        ]
        let document = OpenAPIBuilder(title: "T", version: "1", description: "D").document(for: routes)
        let schemas = document["components"]?["schemas"]
        #expect(schemas?["Thing"] == thing.schema)
        #expect(schemas?["ThingPage"]?["properties"]?["items"]?["items"] == thing.ref)
        #expect(schemas?["Person"] == person.schema)
        let list = document["paths"]?["/api/v1/things"]?["get"]
        #expect(list?["responses"]?["200"]?["content"]?["application/json"]?["schema"] == page.ref)
        #expect(list?["responses"]?["200"]?["headers"]?["RateLimit-Limit"] == ["$ref": "#/components/headers/RateLimit-Limit"])
        #expect(list?["responses"]?["200"]?["headers"]?["X-Own"] == ["schema": ["type": "string"]])
        #expect(document["components"]?["headers"]?["RateLimit-Limit"] != nil)
        guard case .array(let parameters)? = list?["parameters"] else { Issue.record("no parameters"); return }
        #expect(parameters[0]["deprecated"] == nil)
        #expect(parameters[1]["deprecated"] == true)
        let create = document["paths"]?["/api/v1/things"]?["post"]
        #expect(create?["requestBody"]?["content"]?["application/json"]?["schema"] == person.ref)
    }

    @Test func aParameterWithValuesOrAFormatRefusesEmpty() {
        #expect(Operation.Parameter("state", in: .query, schema: ["type": "string", "enum": ["a"]], description: "").refusesEmpty)
        #expect(Operation.Parameter("from", in: .query, schema: ["type": "string", "format": "date"], description: "").refusesEmpty)
        #expect(!Operation.Parameter("q", in: .query, schema: ["type": "string", "maxLength": 9], description: "").refusesEmpty)
    }
}
