import Foundation
@testable import Purser
import Testing
import TestSupport

/// Pages as a person sees them, in headless Chromium.
@Suite(.serialized) struct BrowserTests {
    @Test func theHomePageLoadsWithItsStylesheetAndNoConsoleErrors() throws {
        let app = try TestApp()
        let browser = try Browser()
        try browser.open(app.baseURL + "/")
        let title = try browser.evaluate("return document.title") as? String
        #expect(title == "Purser · Purser")
        // The stylesheet applied: the masthead takes its background from purser.css.
        let background =
            try browser.evaluate(
                "return getComputedStyle(document.querySelector('.masthead')).backgroundColor") as? String
        #expect(background == "rgb(20, 38, 61)")
        let scriptRan = try browser.evaluate("return document.documentElement.classList.contains('js')") as? Bool
        #expect(scriptRan == true, "the external script loaded under the CSP")
        #expect(try browser.consoleErrors() == [])
        let shot = TestEnvironment.artifacts.appendingPathComponent("home.png")
        try browser.screenshot(to: shot)
        let png = try Data(contentsOf: shot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 10_000)
    }

    @Test func signInCreateATokenAndSeeItOnce() throws {
        let app = try TestApp()
        _ = try People(app)
        let browser = try Browser()
        try browser.signIn(at: app.baseURL + "/account", as: "requester@acme.test", password: People.password)
        // Back where the person was going.
        try browser.wait(for: "location.pathname === '/account' && document.querySelector('#token-name')")
        #expect(try browser.evaluate("return document.querySelector('.who').textContent") as? String == "requester")
        try browser.fill("#token-name", "laptop script")
        try browser.click("input[name=scope][value='requests:read']")
        try browser.click("form[action='/account/tokens'] button[type=submit]")
        try browser.wait(for: "document.querySelector('#token-value')")
        let token = try #require(try browser.evaluate("return document.querySelector('#token-value').textContent") as? String)
        #expect(token.hasPrefix("pur_"))
        let me = try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(token)")])
        #expect(me.status == 200)
        try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("token-once.png"))
        // Shown once: a fresh visit lists the token by name, never its value.
        try browser.open(app.baseURL + "/account")
        try browser.wait(for: "document.querySelector('#token-name')")
        let html = try #require(try browser.evaluate("return document.documentElement.outerHTML") as? String)
        #expect(!html.contains(token))
        #expect(html.contains("laptop script"))
        #expect(try browser.consoleErrors() == [])
    }

    @Test func aCustomerFilesACSERepliesAndTheCustomerSeesTheReply() throws {
        let app = try TestApp()
        let people = try People(app, staff: true)
        let browser = try Browser()
        try browser.signIn(at: app.baseURL + "/t/acme/requests/new", as: "requester@acme.test", password: People.password)
        try browser.wait(for: "location.pathname === '/t/acme/requests/new' && document.querySelector('#r-subject')")
        try browser.fill("#r-subject", "Endpoint slow")
        try browser.fill("#r-description", "p95 is **over 2 s** since 09:00")
        _ = try browser.evaluate("document.querySelector('#r-priority').value = 'P2'; return true")
        try browser.click("form[action='/t/acme/requests'] button[type=submit]")
        try browser.wait(for: "location.pathname === '/t/acme/requests/ACME-1'")
        #expect(try browser.evaluate("return document.querySelector('section.panel strong').textContent") as? String == "over 2 s")
        // The type left at its default: a question.
        #expect((try browser.evaluate("return document.querySelector('p.muted').textContent") as? String)?.contains("P2 question") == true)

        // A customer success engineer answers, and leaves a note for colleagues.
        let cse = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        #expect(
            try cse.post("/t/acme/requests/ACME-1/comments", [("body", "Looking into it now")], from: "/t/acme/requests/ACME-1").status
                == 303)
        #expect(
            try cse.post(
                "/t/acme/requests/ACME-1/comments", [("body", "Likely the old node pool"), ("internal", "1")],
                from: "/t/acme/requests/ACME-1"
            ).status == 303)
        #expect(try cse.get("/t/acme/requests/ACME-1").text.contains("Likely the old node pool"))

        try browser.open(app.baseURL + "/t/acme/requests/ACME-1")
        try browser.wait(for: "document.querySelector('#conversation')")
        let conversation = try #require(try browser.evaluate("return document.querySelector('#conversation').textContent") as? String)
        #expect(conversation.contains("Looking into it now"))
        #expect(!conversation.contains("Likely the old node pool"), "internal notes never reach the customer")
        #expect(try browser.consoleErrors() == [])
        try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("request-reply.png"))
    }

    @Test func aPersonInTwoTenantsSwitchesFromTheHeader() throws {
        let app = try TestApp()
        _ = try People(app, slug: "acme")
        let globex = try People(app, slug: "globex")
        _ = try PersonStore(database: app.app.database, hasher: app.app.hasher, clock: app.app.world.clock).addMember(
            NewPerson(email: "requester@acme.test", name: "requester", password: People.password), tenant: globex.tenant,
            role: .viewer, actor: .system, reason: nil)
        let browser = try Browser()
        try browser.signIn(at: app.baseURL + "/t/acme/requests", as: "requester@acme.test", password: People.password)
        try browser.wait(for: "location.pathname === '/t/acme/requests'")
        for (width, height, mobile, from, to) in [(1280, 900, false, "acme", "globex"), (390, 844, true, "globex", "acme")] {
            try browser.viewport(width: width, height: height, mobile: mobile)
            try browser.open(app.baseURL + "/t/\(from)/requests")
            try browser.wait(for: "document.querySelector('.masthead .tenant')")
            #expect(
                try browser.evaluate("return document.querySelector('.masthead .tenant').textContent") as? String
                    == "\(from.capitalized) Bank")
            // The other tenant is one click away, behind "Switch tenant" (closed until opened).
            let link = ".masthead details.switcher a[href='/t/\(to)/']"
            #expect(try browser.evaluate("return document.querySelector(\"\(link)\").checkVisibility()") as? Bool == false)
            try browser.click(".masthead details.switcher summary")
            try browser.wait(for: "document.querySelector(\"\(link)\").checkVisibility()")
            let shown = try #require(
                try browser.evaluate(
                    """
                    const r = document.querySelector("\(link)").getBoundingClientRect();
                    return [r.left, r.right, r.top, r.bottom, document.documentElement.clientWidth, document.documentElement.scrollWidth]
                    """) as? [Double])
            #expect(shown[0] >= 0 && shown[1] <= shown[4] && shown[2] >= 0, "the other tenant is on screen at \(width) px: \(shown)")
            #expect(shown[5] <= shown[4], "opening the switcher makes no sideways scrolling at \(width) px")
            #expect(
                try browser.evaluate("return document.querySelector(\".masthead details.switcher a[aria-current]\").textContent")
                    as? String == "\(from.capitalized) Bank", "the current tenant is marked")
            if mobile { try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("switcher-phone.png")) }
            try browser.click(link)
            try browser.wait(for: "location.pathname === '/t/\(to)/' && document.querySelector('.masthead .tenant')")
            #expect(
                try browser.evaluate("return document.querySelector('.masthead .tenant').textContent") as? String
                    == "\(to.capitalized) Bank")
            #expect(
                (try browser.evaluate("return document.querySelector('h1').textContent") as? String)?
                    .hasPrefix("\(to.capitalized) Bank") == true, "the tenant's own page")
        }
        #expect(try browser.consoleErrors() == [])
    }

    /// Every page that renders HTML, at a phone's width and a laptop's: nothing scrolls sideways (wide
    /// tables scroll inside their own box) and the header's sign-out control is whole and on top.
    @Test func everyPageFitsAPhoneAndALaptop() throws {
        let app = try TestApp()
        let people = try People(app, staff: true)
        let adminCode = try people.enableSecondFactor("tenant_admin@acme.test", in: app)
        let staffCode = try people.enableSecondFactor("provider_admin@staff.test", in: app)
        // A model, a target and a deployment waiting for approval, filed by the requester.
        let deployment = try IsolationWalk.deploymentThings(of: people, in: app).deployment.postgresText
        // An access policy, and an access request approved under it.
        let access = try IsolationWalk.accessThings(of: people, in: app).request.postgresText

        // Something in every list: requests with long subjects, a conversation, a group, a saved view.
        let requester = try people.signedIn("requester@acme.test", in: app)
        for subject in [
            "Endpoint p95 latency above 2 s on eu-west-1 since the 09:00 rollout of the new node pool",
            "Access to the staging GPU hosts for the evaluation team",
        ] {
            #expect(
                try requester.post(
                    "/t/acme/requests",
                    [
                        ("subject", subject), ("type", "incident"), ("priority", "P2"),
                        (
                            "description",
                            "Seen at https://grafana.acme.test/d/aBcDeFgHiJkLmNoPqRsTuVwXyZ/llm-endpoints?orgId=1&from=now-6h&to=now&var-endpoint=all"
                        ),
                    ],
                    from: "/t/acme/requests/new"
                ).status == 303)
        }
        let staff = try people.signedIn("cse@staff.test", in: app, totp: try people.enableSecondFactor("cse@staff.test", in: app))
        #expect(
            try staff.post(
                "/t/acme/requests/ACME-1/comments", [("body", "Looking at the node pool now")],
                from: "/t/acme/requests/ACME-1"
            ).status == 303)
        let resetLink = try ResetLinks.issue(
            email: "viewer@acme.test", actor: .system, database: app.app.database,
            at: app.app.world.now
        ).path

        // An incident opened by the tenant's admin (after the requests above, which keep their numbers).
        let incidentAdmin = Principal(
            user: people.id("tenant_admin@acme.test"), tenantRole: .tenantAdmin, staffRole: nil, tenant: people.tenant)
        let incident = try IncidentStore(database: app.app.database, clock: app.app.world.clock, publicURL: "http://purser.test").open(
            NewIncident(title: "Elevated error rate on the chat endpoint after the 09:00 rollout", severity: "SEV1", service: "chat-api"),
            tenant: people.tenant, principal: incidentAdmin, actor: .system
        ).id.postgresText

        // A budget and last month's (empty) cost review, for their pages.
        var input = BudgetInput()
        (input.name, input.amount) = ("Platform", "2500")
        let budget = try BudgetStore(database: app.app.database, clock: app.app.world.clock).create(
            tenant: people.tenant, input, owner: nil, actor: .system)
        let review = String(
            try MonthlyReviewJob.run(app.app.database, tenant: people.tenant, now: app.app.world.now, publicURL: nil).month.prefix(7))

        // A URL probed by hand, and a public status link, for the monitoring pages.
        var probe = ProbeTargetInput()
        (probe.name, probe.url, probe.kind) = ("chat", "http://127.0.0.1:9/v1", "openai_chat")
        let endpoint = try ProbeTargets(
            database: app.app.database, world: app.app.world, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"])
        ).create(probe, tenant: people.tenant, actor: .system).id.postgresText
        let statusToken = RandomSecret.base64url(32)
        try app.app.database.inTenant(people.tenant) { tx in
            try tx.query(
                "INSERT INTO status_pages (tenant_id, token_hash, created_at) VALUES ($1, decode($2, 'hex'), $3)",
                [people.tenant, RandomSecret.hash(statusToken).map { String(format: "%02x", $0) }.joined(), app.app.world.now])
        }
        // Last week's report (the endpoint above in it), for the weekly report pages.
        let weekly = try WeeklyReportJob.run(app.app.database, tenant: people.tenant, now: app.app.world.now, publicURL: nil).id
            .postgresText

        // A provider channel with a delivery, for the provider channels page.
        try app.app.database.asStaff { tx in
            _ = try ProviderChannels.create(
                kind: .webhook, name: "NOC on-call", target: "https://noc.example.test/hooks/purser", events: ["host.down"],
                keyring: TestEnvironment.keyring, actor: .system, at: app.app.world.now, in: tx)
            try ProviderChannels.notify(
                tx, message: NotificationMessage(event: "host.down", subject: "Host pool-7 is down", text: "No answer over SSH."),
                staff: [], at: app.app.world.now)
        }
        // Who sees each page: nobody signed in, the tenant's admin, or a provider admin.
        enum Who: String { case visitor, admin, staff }
        let pages: [(who: Who, path: String)] = [
            (.visitor, "/"), (.visitor, "/sign-in"), (.visitor, resetLink), (.visitor, "/no-such-page"),
            (.visitor, "/status/\(statusToken)"),
            (.admin, "/"), (.admin, "/account"), (.admin, "/account/two-factor"), (.admin, "/t/acme/"),
            (.admin, "/t/acme/members"), (.admin, "/t/acme/notifications"), (.admin, "/t/acme/audit"),
            (.admin, "/t/acme/reports/sla"), (.admin, "/t/acme/sla"), (.admin, "/t/acme/requests"),
            (.admin, "/t/acme/requests/new"), (.admin, "/t/acme/requests/ACME-1"), (.admin, "/t/acme/requests/ACME-999"),
            (.admin, "/t/acme/hosts"),
            (.admin, "/t/acme/models"), (.admin, "/t/acme/deployments"), (.admin, "/t/acme/deployments/new"),
            (.admin, "/t/acme/deployments/\(deployment)"), (.admin, "/t/acme/deployments/\(deployment)/approval"),
            (.admin, "/t/acme/deployments/policies"),
            (.admin, "/t/acme/costs"), (.admin, "/t/acme/costs/budgets/\(budget.id.postgresText)"), (.admin, "/t/acme/costs/reviews"),
            (.admin, "/t/acme/costs/reviews/\(review)"),
            (.admin, "/t/acme/costs/upload"),
            (.admin, "/t/acme/access"), (.admin, "/t/acme/access/\(access)"), (.admin, "/t/acme/access-policies"),
            (.admin, "/t/acme/incidents"), (.admin, "/t/acme/incidents/\(incident)"), (.admin, "/t/acme/incidents/\(incident)/acknowledge"),
            (.admin, "/t/acme/runbooks"), (.admin, "/t/acme/escalation"),
            (.admin, "/t/acme/endpoints"), (.admin, "/t/acme/endpoints/\(endpoint)"), (.admin, "/t/acme/reports/uptime"),
            (.admin, "/t/acme/reports/weekly"), (.admin, "/t/acme/reports/weekly/\(weekly)"),
            (.admin, "/t/acme/status"),
            (.staff, "/staff/access"),
            (.staff, "/staff/"), (.staff, "/staff/hosts"), (.staff, "/staff/provider-channels"), (.staff, "/staff/requests"),
            (.staff, "/staff/groups"),
            (.staff, "/staff/reports/sla"),
            (.staff, "/staff/audit"), (.staff, "/staff/jobs"), (.staff, "/t/acme/sla"), (.staff, "/t/acme/requests/ACME-1"),
            (.staff, "/account"), (.staff, "/staff/costs"), (.staff, "/staff/prices"),
            (.staff, "/staff/deployments"), (.staff, "/staff/targets"), (.staff, "/staff/incidents"),
            (.staff, "/t/acme/endpoints/\(endpoint)"),
        ]
        // The sign-in's second step is checked on the way in.
        let walked = pages.map(\.path) + ["/sign-in/two-factor"]

        // Every GET route that is not part of the API is walked, or is not a page (and says why).
        let notPages: [String: String] = [
            "/t/{tenant}/audit.csv": "CSV", "/staff/audit.csv": "CSV", "/t/{tenant}/reports/sla.csv": "CSV",
            "/staff/reports/sla.csv": "CSV", "/t/{tenant}/requests/{number}/attachments/{id}": "the file itself",
            "/t/{tenant}/costs.csv": "CSV", "/staff/costs.csv": "CSV", "/t/{tenant}/reports/uptime.csv": "CSV",
            "/t/{tenant}/reports/weekly/{id}/weekly-report.csv": "CSV",
            "/start": "a redirect", "/admin/jobs": "a redirect", "/metrics": "Prometheus text",
        ]
        for route in app.app.server.router.routes where route.method == .get && route.operation == nil {
            let covered = walked.contains { Self.path($0, matches: route.template) }
            #expect(covered || notPages[route.template] != nil, "GET \(route.template) renders a page the walk does not visit")
        }

        let browser = try Browser()
        let screens: [(name: String, width: Int, height: Int, mobile: Bool)] = [("phone", 390, 844, true), ("laptop", 1280, 900, false)]
        var signedInAs: Who = .visitor
        for page in pages {
            if page.who != signedInAs {
                try browser.deleteCookies()
                try browser.viewport(width: 390, height: 844, mobile: true)
                switch page.who {
                case .visitor: break
                case .admin:
                    try browser.signIn(at: app.baseURL + "/account", as: "tenant_admin@acme.test", password: People.password) {
                        try Self.checkFits(browser, "/sign-in/two-factor", screen: "phone", signedIn: false)
                        return adminCode.code(at: Date())
                    }
                case .staff:
                    try browser.signIn(at: app.baseURL + "/account", as: "provider_admin@staff.test", password: People.password) {
                        staffCode.code(at: Date())
                    }
                }
                try browser.wait(for: "location.pathname === '/account'")
                signedInAs = page.who
            }
            for screen in screens {
                try browser.viewport(width: screen.width, height: screen.height, mobile: screen.mobile)
                try browser.open(app.baseURL + page.path)
                try browser.wait(for: "document.readyState === 'complete' && document.querySelector('footer')")
                let error = page.path.contains("no-such") || page.path.hasSuffix("ACME-999")
                #expect(
                    try browser.evaluate("return document.querySelector('.error-page') !== null") as? Bool == error,
                    "\(page.path) as \(page.who.rawValue) shows the page, not an error")
                // (An error page's header offers "Sign in" whoever asks.)
                try Self.checkFits(
                    browser, "\(page.path) as \(page.who.rawValue)", screen: screen.name,
                    signedIn: page.who != .visitor && !error)
                let console = try browser.consoleErrors()
                #expect(
                    error ? console.allSatisfy { $0.contains("status of 404") } : console.isEmpty,
                    "\(page.path) as \(page.who.rawValue) on a \(screen.name): \(console)")
                if screen.mobile {
                    let name =
                        "phone-" + page.who.rawValue + page.path.prefix(40).map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
                    try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("fit/\(name).png"))
                }
            }
        }
    }

    /// Whether `path` is an instance of `template` (`/t/{tenant}/requests` ~ `/t/acme/requests`).
    static func path(_ path: String, matches template: String) -> Bool {
        let given = path.split(separator: "?")[0].split(separator: "/"), wanted = template.split(separator: "/")
        return given.count == wanted.count && zip(given, wanted).allSatisfy { $0 == $1 || $1.hasPrefix("{") }
    }

    /// The page in the browser fits its width: the document is no wider than the window, and the
    /// header's sign-out button (or sign-in link) lies whole inside it, not covered by anything.
    static func checkFits(_ browser: Browser, _ page: String, screen: String, signedIn: Bool) throws {
        let json = try #require(
            try browser.evaluate(
                """
                const doc = document.documentElement;
                const control = document.querySelector(\(signedIn)
                    ? ".masthead form[action='/sign-out'] button" : ".masthead a[href='/sign-in']");
                const out = {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, clientWidth: doc.clientWidth};
                if (control) {
                  const r = control.getBoundingClientRect();
                  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                  out.control = {left: r.left, right: r.right, top: r.top, width: r.width, height: r.height,
                                 onTop: hit === control || control.contains(hit), clipped: control.scrollWidth > control.clientWidth};
                }
                out.wide = [...document.querySelectorAll('body *')]
                  .filter(e => e.getBoundingClientRect().right > doc.clientWidth + 0.5 && !e.closest('.table-scroll'))
                  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
                return JSON.stringify(out);
                """) as? String)
        let fit = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let scrollWidth = fit["scrollWidth"] as? Double ?? .infinity, innerWidth = fit["innerWidth"] as? Double ?? 0
        let clientWidth = fit["clientWidth"] as? Double ?? 0
        // A phone's browser widens the window to content that does not fit (and zooms out), so the
        // window must still be the screen's width for "no wider than the window" to mean anything.
        let screenWidth: Double = screen == "phone" ? 390 : 1280
        #expect(innerWidth == screenWidth, "\(page) on a \(screen): the window is as wide as the screen: \(json)")
        #expect(scrollWidth <= innerWidth && scrollWidth <= screenWidth, "\(page) on a \(screen) scrolls sideways: \(json)")
        let control = try #require(fit["control"] as? [String: Any], "\(page) on a \(screen): the header's sign-in or sign-out control")
        let left = control["left"] as? Double ?? -1, right = control["right"] as? Double ?? .infinity
        let top = control["top"] as? Double ?? -1, width = control["width"] as? Double ?? 0
        #expect(
            left >= 0 && right <= clientWidth && top >= 0 && width > 0 && control["onTop"] as? Bool == true
                && control["clipped"] as? Bool == false,
            "\(page) on a \(screen): the header's \(signedIn ? "Sign out" : "Sign in") is not fully visible: \(json)")
    }
}
