import Foundation
import HTTPServer
@testable import Purser
import Testing
import TestSupport

/// Paths are written once: every route is registered by its SitePage or APIPath, every link is
/// built by SiteURL from the same templates, and no template writes an app path of its own.
@Suite struct SiteURLTests {
    /// One link from every constructor, with values a real page would carry.
    static let samples: [SiteURL] = {
        let id = UUID(uuidString: "0190f3a2-7c1e-7d3a-9b1f-2a3b4c5d6e7f")!
        return [
            .accountTokenRevoke(id), .accountSessionEnd(id), .link("tok-en_1"), .signIn(back: "/t/acme/requests?state=open"),
            .signInTwoFactor(back: "/account"),
            .tenant("acme"), .members("acme"), .memberRole("acme", user: id), .memberDeactivate("acme", user: id),
            .notifications("acme"), .channels("acme"), .channelTest("acme", id: id), .channelDelete("acme", id: id),
            .audit("acme"), .auditCSV("acme"), .requests("acme"), .requestNew("acme"), .request("acme", number: "ACME-12"),
            .requestComments("acme", number: "ACME-12"), .requestUpdate("acme", number: "ACME-12"),
            .requestWatch("acme", number: "ACME-12"), .requestAttachments("acme", number: "ACME-12"),
            .requestAttachment("acme", number: "ACME-12", id: id), .slaPolicy("acme"), .slaReport("acme"), .slaReportCSV("acme"),
            .hosts("acme"),
            .endpoints("acme"), .endpoint("acme", id: id), .uptimeReport("acme"), .uptimeReportCSV("acme"), .tenantStatus("acme"),
            .publicStatus("st_0123456789abcdef"), .weeklyReport("acme", id: id), .weeklyReportCSV("acme", id: id),
            .access("acme"), .accessRequest("acme", id: id), .accessDecide("acme", id: id), .accessWithdraw("acme", id: id),
            .accessRevoke("acme", id: id), .accessCertificate("acme", id: id), .accessPolicies("acme"),
            .models("acme"), .deployments("acme"), .deploymentNew("acme"), .deployment("acme", id: id),
            .deploymentApproval("acme", id: id), .deploymentAction("acme", id: id), .deploymentPolicies("acme"),
            .incident("acme", id: id), .incidentAcknowledge("acme", id: id), .incidentUpdate("acme", id: id),
            .incidentComments("acme", id: id), .incidentPostmortem("acme", id: id), .incidentActions("acme", id: id),
            .staffTenantStatus("acme"), .staffJobRetry(42), .staffJobCancel(42), .devMailMessage(3), .devMailHTML(3),
        ] + SitePage.allCases.filter { PathTemplate.names($0.template).isEmpty }.map(\.url)
    }()

    /// Purser serving every page there is: the development mail pages are served only where mail
    /// is kept instead of sent (`purser dev` without SMTP_URL), so this app keeps its mail.
    static func appServingEveryPage() throws -> TestApp {
        let clock = LiveClock()
        return try TestApp(world: World(clock: clock, mail: MailCatcher(clock: clock)))
    }

    @Test func everyConstructorFillsEachSegmentOfItsTemplate() {
        for url in Self.samples {
            #expect(url.valueCount == PathTemplate.names(url.page.template).count, "\(url.page) built with \(url.valueCount) values")
            #expect(!url.path.contains("{"), "\(url.path)")
        }
    }

    @Test func everyLinkLeadsToTheRouteOfItsPage() throws {
        let app = try Self.appServingEveryPage()
        var router = Router()
        for entry in app.app.routeTable.entries { router.add(entry.route) }
        for url in Self.samples {
            let path = String(url.path.prefix { $0 != "?" && $0 != "#" })
            let methods = app.app.routeTable.entries.filter { $0.route.template == url.page.template }.map(\.route.method)
            #expect(!methods.isEmpty, "\(url.page) (\(url.page.template)) is served by no route")
            for method in methods {
                guard case .found(let route, _) = router.match(method, path) else {
                    Issue.record("\(method.rawValue) \(path) finds no route"); continue
                }
                #expect(route.template == url.page.template, "\(path) reaches \(route.template), not \(url.page.template)")
            }
        }
    }

    /// The table and the two enumerations name the same routes: no route with a template of its own,
    /// no case nobody serves.
    @Test func everyRouteIsAPageOrAnAPIPath() throws {
        let app = try Self.appServingEveryPage()
        let served = Set(app.app.routeTable.entries.map(\.route.template))
        let named = Set(SitePage.allCases.map(\.template)).union(APIPath.allCases.map(\.template))
        #expect(served.subtracting(named).isEmpty, "routes without a SitePage or APIPath case: \(served.subtracting(named).sorted())")
        #expect(named.subtracting(served).isEmpty, "cases no route serves: \(named.subtracting(served).sorted())")
        // Where mail is sent (or not at all), the development pages are not served, and nothing else is missing.
        let sending = try TestApp(database: app.database)
        let development = Set([SitePage.devMail, .devMailMessage, .devMailHTML].map(\.template))
        #expect(served.subtracting(sending.app.routeTable.entries.map(\.route.template)) == development)
    }

    @Test func valuesAreEscapedWhereTheyGo() {
        #expect(SiteURL.request("acme", number: "a/b c?").path == "/t/acme/requests/a%2Fb%20c%3F")
        #expect(
            SiteURL.requests("acme").adding("q", "disk & gpu").adding("state", nil).at("list").path
                == "/t/acme/requests?q=disk%20%26%20gpu#list")
        #expect(SiteURL.signIn(back: "/t/acme/requests?state=open").path == "/sign-in?back=/t/acme/requests%3Fstate%3Dopen")
        #expect(SiteURL.tenant("é").path == "/t/%C3%A9")
        #expect(APIPath.request.path("0190f3a2-7c1e-7d3a-9b1f-2a3b4c5d6e7f") == "/api/v1/requests/0190f3a2-7c1e-7d3a-9b1f-2a3b4c5d6e7f")
        #expect(
            SitePage.account.url.at("notifications").absolute(on: "https://purser.example")
                == "https://purser.example/account#notifications")
    }

    /// Links reach templates from their view models; a path written into a template would escape
    /// the URL type (and the next rename). Static files are the exception: they are not routes.
    @Test func templatesWriteNoAppPaths() throws {
        let root = TestEnvironment.root.appendingPathComponent("Templates")
        let files =
            FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".mustache") } ?? []
        #expect(files.count > 15)
        let literal = try NSRegularExpression(pattern: #"(href|action|src|formaction)\s*=\s*["']?/(?!static/)"#)
        var found: [String] = []
        for file in files {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = String(line)
                if literal.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil {
                    found.append("\(file):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(found.isEmpty, "app paths written in templates:\n\(found.joined(separator: "\n"))")
    }
}
