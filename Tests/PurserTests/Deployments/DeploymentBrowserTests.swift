import Foundation
import HTTPServerTesting
@testable import Purser
import Testing
import TestSupport

/// A deployment as people make it, in headless Chromium: the requester files a canary on the
/// sandbox from the form, two other people approve it through the approval page (each with their
/// second factor), and the deployment page shows it go live once the worker's reconciler has run.
@Suite(.serialized) struct DeploymentBrowserTests {
    @Test func fileApproveAsTwoOthersAndWatchItGoLive() throws {
        let app = try TestApp()
        let people = try People(app, staff: true)
        let (database, clock, tenant) = (app.app.database, app.app.world.clock, people.tenant)
        let requester = people.id("requester@acme.test")
        try database.inTenant(tenant) { tx in
            let environment = UUID()
            try tx.query(
                "INSERT INTO environments (tenant_id, id, name, position, created_at) VALUES ($1, $2, 'validation', 1, $3)",
                [tenant, environment, clock.now])
            try ApprovalPolicies.set(
                tx,
                ApprovalPolicy(
                    requiredApprovals: 2, approverRoles: [.approver], providerSignoff: false, resetOnChange: true, validity: 3600),
                tenant: tenant, environment: environment, by: nil, actor: .system, at: clock.now)
        }
        _ = try DeploymentTargets(database: database, keyring: TestEnvironment.keyring, clock: clock).create(
            NewTarget(name: "sandbox", kind: "sandbox", settings: #"{"operation_seconds": 0, "requests_per_minute": 6000}"#),
            tenant: tenant, by: requester, actor: .system)
        let registry = ModelRegistry(database: database, clock: clock)
        let model = try registry.register(
            NewModel(name: "Helpdesk", family: "Phi-3", source: "open_weights", licence: "MIT"), tenant: tenant, owner: requester,
            actor: .system)
        _ = try registry.addVersion(
            NewModelVersion(
                version: "1.0.0", artifactURI: "hf://microsoft/Phi-3-mini-4k-instruct",
                digest: "sha256:" + String(repeating: "0f", count: 32),
                format: "safetensors", parameterCount: 3_820_000_000, contextLength: 4096, card: "# Helpdesk"),
            to: model.id, tenant: tenant, by: requester, actor: .system)
        let approverTOTP = try people.enableSecondFactor("approver@acme.test", in: app)
        let adminTOTP = try people.enableSecondFactor("tenant_admin@acme.test", in: app)

        let browser = try Browser()
        try browser.signIn(at: app.baseURL + "/t/acme/deployments/new", as: "requester@acme.test", password: People.password)
        try browser.wait(for: "location.pathname === '/t/acme/deployments/new' && document.querySelector('#d-version')")
        try browser.fill("#d-steps", "50, 100")
        try browser.fill("#d-bake", "1")
        try browser.click("form[action='/t/acme/deployments'] button[type=submit]")
        try browser.wait(for: "/^\\/t\\/acme\\/deployments\\/[0-9a-f-]{36}$/.test(location.pathname)")
        let page = try #require(try browser.evaluate("return location.pathname") as? String)
        #expect(
            try browser.evaluate("return document.querySelector('#approvals').textContent.includes('2 more approvals')") as? Bool == true)

        // Two other people approve, each through the page the approval mail links to.
        for (email, totp) in [("approver@acme.test", approverTOTP), ("tenant_admin@acme.test", adminTOTP)] {
            try browser.deleteCookies()
            try browser.signIn(at: app.baseURL + page + "/approval", as: email, password: People.password) {
                totp.code(at: app.app.world.now)
            }
            try browser.wait(for: "location.pathname === '\(page)/approval' && document.querySelector('button[value=approve]')")
            try browser.click("button[value=approve]")
            try browser.wait(for: "location.pathname === '\(page)'")
        }
        #expect(try browser.evaluate("return document.querySelector('.badge').textContent") as? String != "pending approval")

        // The worker's reconciler rolls it out on the sandbox; the page shows it live.
        let worker = try app.startWorker()
        defer { worker.stop() }
        let live = try waitUntil(60) {
            try browser.open(app.baseURL + page)
            try browser.wait(for: "document.querySelector('h1')")
            return try browser.evaluate("return document.querySelector('.badge').textContent") as? String == "live"
        }
        #expect(live)
        try browser.screenshot(to: TestEnvironment.artifacts.appendingPathComponent("deployment-live.png"))
        #expect(try browser.consoleErrors() == [])
    }
}
