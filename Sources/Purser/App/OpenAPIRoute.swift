// `/api/openapi.json`: the document built from the registered routes at start.
import HTTPServer

enum OpenAPIRoute {
    static let operation = Operation(
        id: "getOpenAPIDocument", summary: "This OpenAPI 3.1 document.", tags: ["api"],
        responses: [.init(200, "The document.", component: document)])

    static let document = SchemaComponent(
        "OpenAPIDocument",
        schema: [
            "type": "object", "required": ["openapi", "info", "paths"],
            "description": "An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0).",
            "properties": [
                "openapi": ["type": "string"], "info": ["type": "object"], "paths": ["type": "object"],
                "components": ["type": "object"],
            ],
        ])

    static let builder = OpenAPIBuilder(
        title: "Purser API", version: PurserVersion.current,
        description: "The JSON API of Purser, the portal for managed AI services: service requests, "
            + "deployment approvals, access grants, SLAs and costs. Errors are RFC 9457 problem documents.",
        headers: [ReadYourWrites.responseHeader])

    /// Adds the document's route; call last, so the document covers every route.
    static func register(in routes: inout RouteTable) {
        let documented =
            (routes.entries.map(\.route)
            + [Route(.get, SitePage.apiDocument.template, operation: operation) { _ in Response() }])
            .map(APIDocumentation.complete)
        let bytes = builder.document(for: documented).serialized()
        routes.everyone(.get, .apiDocument, options: .inline, operation: operation) { _ in
            Response(status: .ok, contentType: "application/json", body: bytes)
        }
    }
}
