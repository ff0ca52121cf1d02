import Foundation
import HTTPServer
@testable import Purser
import Testing
import TestSupport

/// The read-your-writes marker in the API's document: every write's successful answer may carry
/// `Purser-Primary-Until`, and the reports a replica may serve take it back; the server holds the
/// header to the form the document gives and sets it on an API write where a replica serves reads.
@Suite struct PrimaryUntilDocumentTests {
    typealias Object = OpenAPITests.Object
    static let header = "Purser-Primary-Until"
    static let writes: Set<String> = ["post", "put", "patch", "delete"]

    @Test func theMarkerIsDocumentedWhereItIsSetAndWhereItIsRead() throws {
        // The routed app: with a "replica" configured the server sets the marker, so the answer shows it.
        let plain = try TestApp()
        let app = try TestApp(database: plain.database) { $0.databaseReplicaURL = plain.database.url }
        let document = try OpenAPITests.document(app)
        let component = try #require(((document["components"] as? Object)?["headers"] as? Object)?[Self.header] as? Object)
        #expect((component["schema"] as? Object)?["pattern"] as? String == "^[0-9]{1,12}$")
        var readers: [String] = []
        for (method, path, operation) in OpenAPITests.operations(document) {
            let name = "\(method) \(path)"
            let responses = (operation["responses"] as? Object) ?? [:]
            let bearer = !OpenAPITests.expectedRefusals(operation).isEmpty
            for (status, response) in responses where status.hasPrefix("2") {
                let headers = (response as? Object)?["headers"] as? Object ?? [:]
                if bearer && Self.writes.contains(method) {
                    #expect(
                        (headers[Self.header] as? Object)?["$ref"] as? String == "#/components/headers/\(Self.header)",
                        "\(name) \(status) does not name the marker")
                } else {
                    #expect(headers[Self.header] == nil, "\(name) \(status) names the marker but sets none")
                }
            }
            let parameters = (operation["parameters"] as? [Object]) ?? []
            if let taken = parameters.first(where: { $0["in"] as? String == "header" && $0["name"] as? String == Self.header }) {
                readers.append(operation["operationId"] as? String ?? name)
                #expect(taken["required"] as? Bool == false, "\(name): the marker is optional")
                #expect(((taken["schema"] as? Object)?["pattern"] as? String) == "^[0-9]{1,12}$")
                #expect((responses["400"] as? Object)?["description"].map { "\($0)".contains(Self.header) } == true)
            }
        }
        // The routed reads of the API (docs/scaling.md "Which routes"), and no other.
        #expect(readers.sorted() == ["getCostReport", "getSLAReport", "getUptimeReport"])

        // What the document says is what the server does: an API write answers the marker ...
        let people = try People(app)
        let made = try app.app.tokens.create(
            user: people.id("requester@acme.test"), tenant: people.tenant, name: "marker",
            scopes: [.requestsRead, .requestsWrite, .reportsRead], lifetime: 3600, actor: .system)
        let bearer = ("Authorization", "Bearer \(made.token)")
        let filed = try app.send(
            "POST", "/api/v1/requests", headers: [bearer, ("Content-Type", "application/json")],
            body: Array(#"{"subject": "Marked", "type": "question", "priority": "P4"}"#.utf8))
        #expect(filed.status == 201)
        let until = try #require(filed.header(Self.header))
        #expect(ReadYourWrites.seconds(until) == Int(app.app.world.now.timeIntervalSince1970) + 30)
        // ... a report takes it back, and refuses, naming it, a header not of its form.
        #expect(try app.get("/api/v1/reports/sla", headers: [bearer, (Self.header, until)]).status == 200)
        for malformed in ["soon", "-1", "1.5", "1234567890123", "0x10", "+12"] {
            let refused = try app.get("/api/v1/reports/sla", headers: [bearer, (Self.header, malformed)])
            let body = (try? JSONSerialization.jsonObject(with: Data(refused.body))) as? Object
            let fields = ((body?["errors"] as? [Object]) ?? []).compactMap { $0["field"] as? String }
            #expect(refused.status == 400 && fields == [Self.header], "'\(malformed)': \(refused.status) \(fields)")
        }
    }
}
