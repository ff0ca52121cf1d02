import Foundation
import HTTPClient
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The registry and deployments over the real server: the catalogue without a tenant, models and
/// versions, filing a deployment (which files its deployment request), the bad inputs named by
/// their rules, approvals with If-Match, the 422 with `state` and `allowed` for every state machine,
/// the approval mail's link that only asks, and the deployment clock.
@Suite struct DeploymentAPITests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func token(_ email: String, _ scopes: [Scope], tenant: UUID?? = .none) throws -> String {
        try app.app.tokens.create(
            user: people.id(email), tenant: tenant ?? people.tenant, name: "t", scopes: scopes, lifetime: 3600, actor: .system
        ).token
    }

    func call(
        _ method: String, _ path: String, _ token: String, body: String? = nil, headers: [(name: String, value: String)] = []
    ) throws -> (ClientResponse, [String: Any]) {
        var all = [("Authorization", "Bearer \(token)")] + headers
        if body != nil { all.append(("Content-Type", "application/json")) }
        let response = try app.send(method, path, headers: all, body: body.map { Array($0.utf8) })
        return (response, ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:])
    }

    func scalar<T: PostgresDecodable>(_ sql: String, _ values: [any PostgresEncodable] = [], as: T.Type = T.self) throws -> T? {
        try app.database.connect().query(sql, values).first?.decode(0, as: T.self)
    }

    /// validation (two approvals from approver and up) → staging (one, an hour live in validation first);
    /// a sandbox target and a host pool.
    func setUp() throws {
        let (database, clock, tenant) = (app.app.database, app.app.world.clock, people.tenant)
        try database.inTenant(tenant) { tx in
            var ids: [UUID] = []
            for (position, name) in ["validation", "staging"].enumerated() {
                let id = UUID()
                try tx.query(
                    "INSERT INTO environments (tenant_id, id, name, position, created_at) VALUES ($1, $2, $3, $4, $5)",
                    [tenant, id, name, position + 1, clock.now])
                ids.append(id)
            }
            try ApprovalPolicies.set(
                tx,
                ApprovalPolicy(
                    requiredApprovals: 2, approverRoles: [.approver], providerSignoff: false, resetOnChange: true, validity: 86400),
                tenant: tenant, environment: ids[0], by: nil, actor: .system, at: clock.now)
            try ApprovalPolicies.set(
                tx,
                ApprovalPolicy(
                    requiredApprovals: 1, approverRoles: [.approver], providerSignoff: false, resetOnChange: true, validity: 86400,
                    promotionGate: 3600), tenant: tenant, environment: ids[1], by: nil, actor: .system, at: clock.now)
        }
        let targets = DeploymentTargets(database: database, keyring: TestEnvironment.keyring, clock: clock)
        let requester = people.id("requester@acme.test")
        _ = try targets.create(NewTarget(name: "sandbox", kind: "sandbox"), tenant: tenant, by: requester, actor: .system)
        _ = try targets.create(NewTarget(name: "gpu-pool", kind: "host_pool"), tenant: tenant, by: requester, actor: .system)
        try database.pool.query(
            """
            INSERT INTO model_catalogue (id, name, family, publisher, open_weights, licence, parameter_count, context_length, created_at)
            VALUES ('phi-3-mini-4k-instruct', 'Phi-3 Mini 4k Instruct', 'Phi-3', 'Microsoft', true, 'MIT', 3820000000, 4096, $1)
            """, [clock.now])
    }

    @Test func registryFilingApprovalsAndRefusals() throws {
        try setUp()
        // The catalogue needs no tenant: a staff token bound to none reads it.
        let staff = try token("platform_engineer@staff.test", [.deploymentsRead, .deploymentsWrite], tenant: .some(nil))
        let catalogue = try call("GET", "/api/v1/catalogue/models", staff)
        #expect(catalogue.0.status == 200)
        #expect((catalogue.1["items"] as? [[String: Any]])?.first?["licence"] as? String == "MIT")

        // A model and a version, through the API.
        let requester = try token("requester@acme.test", [.deploymentsRead, .deploymentsWrite, .requestsRead])
        let (madeModel, model) = try call(
            "POST", "/api/v1/models", requester,
            body:
                #"{"name": "Helpdesk", "family": "Phi-3", "source": "open_weights", "licence": "MIT", "catalogue_id": "phi-3-mini-4k-instruct"}"#
        )
        #expect(madeModel.status == 201, "\(model)")
        let modelID = try #require(model["id"] as? String)
        let badVersion = try call(
            "POST", "/api/v1/models/\(modelID)/versions", requester,
            body:
                #"{"version": "one", "artifact_uri": "s3://m/1", "digest": "md5:1", "format": "safetensors", "parameter_count": 1, "context_length": 1}"#
        )
        #expect(badVersion.0.status == 422)
        #expect(Set(((badVersion.1["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }) == ["version", "digest"])
        let (madeVersion, version) = try call(
            "POST", "/api/v1/models/\(modelID)/versions", requester,
            body: """
                {"version": "1.0.0", "artifact_uri": "hf://microsoft/Phi-3-mini-4k-instruct", "digest": "sha256:\(String(repeating: "0f", count: 32))",
                 "format": "safetensors", "parameter_count": 3820000000, "context_length": 4096, "card": "# Helpdesk\\n\\nAnswers **tickets**."}
                """)
        #expect(madeVersion.status == 201, "\(version)")
        let versionID = try #require(version["id"] as? String)
        #expect(try call("GET", "/api/v1/models/\(modelID)/versions", requester).1["items"].map { ($0 as? [Any])?.count } == 1)

        // Bad input, each refused naming its rule.
        func refused(_ body: String) throws -> String {
            let (answer, problem) = try call("POST", "/api/v1/deployments", requester, body: body)
            #expect(answer.status == 422, "\(problem)")
            return ((problem["errors"] as? [[String: Any]]) ?? []).compactMap { $0["detail"] as? String }.joined(separator: " | ")
        }
        let base = #""environment": "validation", "target": "sandbox""#
        #expect(try refused(#"{"model_version_id": "\#(UUID())", \#(base), "strategy": "canary"}"#).contains("no model version"))
        #expect(try refused(#"{"model_version_id": "\#(versionID)", \#(base), "strategy": "yolo"}"#).contains("unknown strategy"))
        #expect(
            try refused(#"{"model_version_id": "\#(versionID)", \#(base), "strategy": "canary", "steps": [10, 50]}"#).contains(
                "steps must end at 100"))
        #expect(
            try refused(#"{"model_version_id": "\#(versionID)", "environment": "validation", "target": "gpu-pool", "strategy": "direct"}"#)
                .contains("host pools have no deployment driver"))
        #expect(
            try refused(#"{"model_version_id": "\#(versionID)", "environment": "staging", "target": "sandbox", "strategy": "direct"}"#)
                .contains("promotion gate"))

        // Filing: a deployment request is filed with it, in the same transaction; a retry with the key replays.
        let file = #"{"model_version_id": "\#(versionID)", \#(base), "strategy": "canary", "steps": [10, 50, 100], "bake_seconds": 30}"#
        let (filed, deployment) = try call("POST", "/api/v1/deployments", requester, body: file, headers: [("Idempotency-Key", "file-1")])
        #expect(filed.status == 201, "\(deployment)")
        #expect(deployment["state"] as? String == "pending_approval")
        let id = try #require(deployment["id"] as? String)
        let replay = try call("POST", "/api/v1/deployments", requester, body: file, headers: [("Idempotency-Key", "file-1")])
        #expect(replay.1["id"] as? String == id)
        let request = try #require((deployment["request"] as? [String: Any])?["id"] as? String)
        let linked = try call("GET", "/api/v1/requests/\(request)", requester).1
        #expect(linked["type"] as? String == "deployment")
        // Waiting on the customer's own approvers pauses the deployment clock.
        #expect(((linked["sla"] as? [String: Any])?["deployment"] as? [String: Any])?["state"] as? String == "paused")
        #expect((deployment["approvals"] as? [String: Any])?["missing"] as? Int == 2)
        #expect(
            try scalar("SELECT count(*) FROM notification_deliveries WHERE event = 'deployment.approval_needed'", as: Int.self) ?? 0 >= 2)

        // approvals:write only on a token of a person with a second factor.
        #expect(throws: ValidationError.self) { try token("approver@acme.test", [.approvalsWrite]) }
        let approverTOTP = try people.enableSecondFactor("approver@acme.test", in: app)
        let adminTOTP = try people.enableSecondFactor("tenant_admin@acme.test", in: app)
        let approver = try token("approver@acme.test", [.approvalsWrite, .deploymentsRead])
        let admin = try token("tenant_admin@acme.test", [.approvalsWrite, .deploymentsRead, .deploymentsWrite, .requestsWrite])

        // A stale If-Match is a 412 naming the current version; an approval records the version it approved.
        let etag = try #require(filed.header("ETag"))
        let stale = try call(
            "POST", "/api/v1/deployments/\(id)/approvals", approver, body: #"{"decision": "approve"}"#, headers: [("If-Match", "\"v0\"")])
        #expect(stale.0.status == 412)
        #expect(stale.0.header("ETag") == etag)
        let first = try call(
            "POST", "/api/v1/deployments/\(id)/approvals", approver, body: #"{"decision": "approve", "reason": "looks fine"}"#,
            headers: [("If-Match", etag)])
        #expect(first.0.status == 200, "\(first.1)")
        #expect(first.1["state"] as? String == "pending_approval")
        let again = try call("POST", "/api/v1/deployments/\(id)/approvals", approver, body: #"{"decision": "approve"}"#)
        #expect(again.0.status == 409)
        let second = try call(
            "POST", "/api/v1/deployments/\(id)/approvals", admin, body: #"{"decision": "approve"}"#, headers: [("If-Match", etag)])
        #expect(second.1["state"] as? String == "approved", "\(second.1)")
        // The final approval enqueued the reconciler in the same transaction and kept its id.
        let job = try scalar(
            "SELECT j.kind FROM deployments d JOIN jobs j ON j.id = d.reconcile_job_id WHERE d.id = $1", [UUID(uuidString: id)!],
            as: String.self)
        #expect(job == "deployment.reconcile")
        let running = try call("GET", "/api/v1/requests/\(request)", requester).1
        #expect(((running["sla"] as? [String: Any])?["deployment"] as? [String: Any])?["state"] as? String == "running")

        // One rule for every state machine: 422 with `state` and `allowed` members.
        let resume = try call("POST", "/api/v1/deployments/\(id)/resume", requester)
        #expect(resume.0.status == 422)
        #expect(resume.1["state"] as? String == "approved")
        #expect(resume.1["allowed"] as? [String] == ["abort"])
        let late = try call("POST", "/api/v1/deployments/\(id)/approvals", approver, body: #"{"decision": "approve"}"#)
        #expect(late.0.status == 422)
        #expect(late.1["state"] as? String == "approved")
        let closing = try call(
            "PATCH", "/api/v1/requests/\(request)", admin, body: #"{"state": "closed"}"#)
        #expect(closing.0.status == 422)
        #expect(closing.1["state"] as? String == "new")
        #expect((closing.1["allowed"] as? [String]) == ["open", "pending_customer", "resolved"])

        // Reaching live stops the deployment clock without resolving the request.
        try app.app.database.inTenant(people.tenant) { tx in
            try DeploymentClock.reachedLive(tx, tenant: people.tenant, deployment: UUID(uuidString: id)!, at: app.app.world.clock.now)
        }
        let stopped = try call("GET", "/api/v1/requests/\(request)", requester).1
        #expect(((stopped["sla"] as? [String: Any])?["deployment"] as? [String: Any])?["state"] as? String == "stopped")
        #expect(stopped["state"] as? String == "new")

        // The requester never approves their own: the tenant admin files one and is refused, audited.
        let own = try call(
            "POST", "/api/v1/deployments", admin,
            body: #"{"model_version_id": "\#(versionID)", \#(base), "endpoint": "second", "strategy": "direct"}"#)
        #expect(own.0.status == 201, "\(own.1)")
        let ownID = try #require(own.1["id"] as? String)
        let selfApproval = try call("POST", "/api/v1/deployments/\(ownID)/approvals", admin, body: #"{"decision": "approve"}"#)
        #expect(selfApproval.0.status == 422)
        #expect("\(selfApproval.1)".contains("self_approval"))
        #expect(
            try scalar(
                "SELECT count(*) FROM audit_events WHERE action = 'deployment.denied' AND target_id = ANY($1)", [[id, ownID]], as: Int.self)
                ?? 0 >= 2)

        // The approval mail's link opens a confirmation page; following it decides nothing.
        let browser = try people.signedIn("tenant_admin@acme.test", in: app, totp: adminTOTP)
        let page = try browser.get("/t/acme/deployments/\(ownID)/approval")
        #expect(page.status == 200)
        #expect(page.text.contains("someone else must approve it"))
        // Tenant admins set who approves each environment; the change is audited.
        let saved = try browser.post(
            "/t/acme/deployments/policies",
            [
                ("environment", "staging"), ("required_approvals", "3"), ("approver_roles", "tenant_admin"), ("validity_hours", "2"),
                ("promotion_gate_hours", "0"),
            ], from: "/t/acme/deployments/policies")
        #expect(saved.status == 200)
        #expect(saved.text.contains("3 approvals from tenant_admin"))
        // Hours that are no number of seconds (infinite, beyond a year) are a message, not a crash.
        for (validity, gate, field) in [
            ("inf", "0", "validity_hours"), ("2", "1e308", "promotion_gate_hours"), ("99999999999", "0", "validity_hours"),
            ("0.0000001", "0", "validity_hours"),
        ] {
            let refused = try browser.post(
                "/t/acme/deployments/policies",
                [
                    ("environment", "staging"), ("required_approvals", "1"), ("approver_roles", "tenant_admin"),
                    ("validity_hours", validity), ("promotion_gate_hours", gate),
                ], from: "/t/acme/deployments/policies")
            #expect(refused.status == 422 && refused.text.contains(field), "\(validity) \(gate)")
        }
        #expect(try scalar("SELECT count(*) FROM audit_events WHERE action = 'approval_policy.set'", as: Int.self) == 3)
        // Staff make environments and targets; a target's secret is sealed and never shown again.
        let platform = try people.signedIn(
            "platform_engineer@staff.test", in: app, totp: try people.enableSecondFactor("platform_engineer@staff.test", in: app))
        // A refused environment keeps what was typed in its own form.
        let misplaced = try platform.post(
            "/staff/targets/environments", [("tenant", "acme"), ("environment", "prod-eu"), ("position", "101")], from: "/staff/targets")
        #expect(misplaced.status == 422 && misplaced.text.contains("1 to 100"))
        #expect(
            misplaced.text.contains(#"name="tenant" value="acme""#) && misplaced.text.contains(#"value="prod-eu""#)
                && misplaced.text.contains(#"value="101""#))
        let environment = try platform.post(
            "/staff/targets/environments", [("tenant", "acme"), ("environment", "production"), ("position", "3")], from: "/staff/targets")
        #expect(environment.status == 201)
        let aws = try platform.post(
            "/staff/targets",
            [
                ("tenant", "acme"), ("name", "aws"), ("kind", "sagemaker"), ("region", "eu-west-1"),
                ("access_key_id", "AKIAIOSFODNN7EXAMPLE"), ("secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            ], from: "/staff/targets")
        #expect(aws.status == 201)
        // A sandbox rate no request count holds is refused, not left to trap the reconciler.
        let flood = try platform.post(
            "/staff/targets",
            [("tenant", "acme"), ("name", "flood"), ("kind", "sandbox"), ("settings", #"{"requests_per_minute": 1e300}"#)],
            from: "/staff/targets")
        #expect(flood.status == 422 && flood.text.contains("requests_per_minute"))
        #expect(!aws.text.contains("wJalrXUtnFEMI") && aws.text.contains("…MPLE"))
        let confirm = try people.signedIn("approver@acme.test", in: app, totp: approverTOTP)
        let asked = try confirm.get("/t/acme/deployments/\(ownID)/approval")
        #expect(asked.status == 200)
        #expect(asked.text.contains("Approve"))
        #expect(
            try scalar("SELECT count(*) FROM deployment_approvals WHERE deployment_id = $1", [UUID(uuidString: ownID)!], as: Int.self) == 0)
        #expect(
            try scalar("SELECT state FROM deployments WHERE id = $1", [UUID(uuidString: ownID)!], as: String.self) == "pending_approval")
        // Once no decision is possible the page says why and offers no buttons that could only fail.
        #expect(try call("POST", "/api/v1/deployments/\(ownID)/abort", admin, body: "{}").0.status == 200)
        let abortedTwice = try call("POST", "/api/v1/deployments/\(ownID)/abort", admin, body: "{}")
        #expect("\(abortedTwice.1)".contains("an aborted deployment takes no action"), "\(abortedTwice.1)")
        let ended = try confirm.get("/t/acme/deployments/\(ownID)/approval")
        #expect(ended.text.contains("this deployment is aborted"))
        #expect(!ended.text.contains("value=\"approve\"") && !ended.text.contains("Still needed"))
        #expect(!page.text.contains("value=\"approve\""), "the requester is offered no approval of their own")
    }
}
