import Foundation
@testable import Purser
import Testing
import TestSupport

/// Templates see exactly what a view model encodes: stored fields, computed values it encodes
/// itself, lists and absent optionals — and the layout's tenant switcher, which once lived in a
/// computed property that reflection never saw.
@Suite struct TemplateModelTests {
    struct Row: Encodable, Sendable {
        let name: String
        let count: Int
    }

    struct Model: TemplateModel {
        let title: String
        let rows: [Row]
        let tags: [String]
        let note: String?
        let missing: String?
        var busy: Bool { rows.count > 1 }

        enum CodingKeys: String, CodingKey { case title, rows, tags, note, missing, busy }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(title, forKey: .title)
            try container.encode(rows, forKey: .rows)
            try container.encode(tags, forKey: .tags)
            try container.encodeIfPresent(note, forKey: .note)
            try container.encodeIfPresent(missing, forKey: .missing)
            try container.encode(busy, forKey: .busy)
        }
    }

    @Test func aTemplateSeesWhatTheModelEncodesComputedValuesIncluded() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("purser-templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        {{title}}|{{#busy}}busy{{/busy}}{{^busy}}quiet{{/busy}}|{{#rows}}{{name}}={{count}};{{/rows}}|{{#tags}}<{{.}}>{{/tags}}|\
        {{#note}}note:{{note}}{{/note}}|{{^missing}}none{{/missing}}
        """.write(to: folder.appendingPathComponent("page.mustache"), atomically: true, encoding: .utf8)
        let templates = try Templates(folder: folder)
        let busy = Model(
            title: "A & B", rows: [Row(name: "x", count: 1), Row(name: "y", count: 2)], tags: ["p1", "p2"],
            note: "n", missing: nil)
        #expect(templates.render("page", busy) == "A &amp; B|busy|x=1;y=2;|<p1><p2>|note:n|none")
        let quiet = Model(title: "", rows: [Row(name: "z", count: 0)], tags: [], note: nil, missing: nil)
        #expect(templates.render("page", quiet) == "|quiet|z=0;|||none")
    }

    @Test func theEncoderWritesMustachesOwnShapes() throws {
        let encoded = try #require(
            TemplateEncoding.encode(
                Model(
                    title: "t", rows: [Row(name: "x", count: 3)], tags: ["a"],
                    note: nil, missing: nil)) as? [String: Any])
        #expect(Set(encoded.keys) == ["title", "rows", "tags", "busy"], "absent optionals are left out")
        #expect(encoded["busy"] as? Bool == false)
        #expect(encoded["tags"] as? [String] == ["a"])
        let rows = try #require(encoded["rows"] as? [Any])
        #expect((rows.first as? [String: Any])?["count"] as? Int == 3)
    }

    @Test func theHeaderOffersASwitcherOnlyToPeopleInSeveralTenants() throws {
        let app = try TestApp()
        _ = try People(app, slug: "acme")
        let globex = try People(app, slug: "globex")
        let one = try People(app, slug: "initech")
        _ = one
        _ = try PersonStore(database: app.app.database, hasher: app.app.hasher, clock: app.app.world.clock).addMember(
            NewPerson(email: "requester@acme.test", name: "requester", password: People.password), tenant: globex.tenant,
            role: .viewer, actor: .system, reason: nil)

        let both = WebVisitor(app)
        try both.signIn("requester@acme.test", People.password)
        let inTenant = try both.get("/t/acme/requests").text
        #expect(inTenant.contains("<summary>Switch tenant</summary>"))
        #expect(inTenant.contains(#"<a href="/t/acme/" aria-current="true">Acme Bank</a>"#))
        #expect(inTenant.contains(#"<a href="/t/globex/">Globex Bank</a>"#))
        // Outside any tenant, the same choice.
        let account = try both.get("/account").text
        #expect(account.contains("<summary>Switch tenant</summary>") && account.contains(#"<a href="/t/globex/">Globex Bank</a>"#))

        let single = WebVisitor(app)
        try single.signIn("requester@initech.test", People.password)
        let own = try single.get("/account").text
        #expect(!own.contains("Switch tenant"))
        #expect(own.contains(#"<a href="/t/initech/">Initech Bank</a>"#), "one tenant is a plain link")
    }
}
