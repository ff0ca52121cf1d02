// The wall between tenants, walked over every route the server registered: each is asked with
// another tenant's slug and ids, as that tenant's neighbours would ask it, and must answer as if
// the thing did not exist. The walk returns what it found wrong, so a test can also plant a leaking
// route and see the walk catch it. A route whose path names something the walk cannot fill in is
// itself a problem: a new route is taught here, never skipped.
import Foundation
import HTTPClient
import HTTPServer
import Postgres
import Purser

extension ClientResponse {
    var parts: (status: Int, body: [UInt8]) { (status, body) }
}

public struct IsolationWalk {
    /// The things of one tenant a route may name, made through the API as its people would.
    public struct Things: Sendable {
        public let slug: String
        public let requestID: String
        public let requestNumber: String
        public let attachmentID: String
        public let channelID: String
        public let memberID: String
        public let tokenID: String
        public let sessionID: String
        /// A budget, and the month of an archived cost review (a different month in each tenant).
        public let budgetID: String
        public let reviewMonth: String
        public let hostID: String
        /// An access request (approved) and its grant.
        public let accessRequestID: String
        public let accessGrantID: String
        /// The access policy it was asked under.
        public let accessPolicyID: String
        /// A registered model and a deployment of one of its versions (waiting for approval).
        public let modelID: String
        public let deploymentID: String
        /// A URL probed by hand (an endpoint of the monitoring pages), and a maintenance window of it.
        public let probeTargetID: String
        public let maintenanceWindowID: String
        /// An incident (its request is filed with it).
        public let incidentID: String
        /// An archived weekly report (its probe target and incident in it).
        public let weeklyReportID: String
        /// A runbook, and the token of the tenant's public status page.
        public let runbookID: String
        public let statusToken: String
        /// Text that must never reach a caller of another tenant.
        public let markers: [String]
    }

    let app: TestApp
    public let acme: People
    public let globex: People
    public let ours: Things
    public let theirs: Things
    let admin: WebVisitor
    let formToken: String
    let customerToken: String
    let staffToken: String

    /// Two tenants, each with a request (a comment, a file), an e-mail channel, a token and a
    /// session; acme's admin signed in, an acme token with every scope its role can use, and a staff token.
    public init(_ app: TestApp) throws {
        self.app = app
        acme = try People(app, slug: "acme", staff: true)
        globex = try People(app, slug: "globex")
        ours = try Self.things(of: acme, in: app)
        theirs = try Self.things(of: globex, in: app)
        admin = try acme.signedIn("tenant_admin@acme.test", in: app, totp: try acme.enableSecondFactor("tenant_admin@acme.test", in: app))
        formToken = try admin.formToken(on: "/account")
        customerToken = try app.app.tokens.create(
            user: acme.id("tenant_admin@acme.test"), tenant: acme.tenant, name: "walk",
            scopes: [
                .requestsRead, .requestsWrite, .reportsRead, .notificationsRead, .hostsRead, .costsRead, .budgetsWrite,
                .deploymentsRead, .deploymentsWrite, .approvalsWrite, .accessRequest, .accessManage,
                .incidentsRead, .incidentsWrite, .alertsWrite,
            ], lifetime: 3600,
            actor: .system
        ).token
        staffToken = try app.app.tokens.create(
            user: acme.id("provider_admin@staff.test"), tenant: nil, name: "walk",
            scopes: [
                .requestsRead, .requestsWrite, .reportsRead, .notificationsRead, .hostsRead, .hostsWrite, .costsRead, .budgetsWrite,
                .deploymentsRead, .deploymentsWrite, .pricesWrite, .incidentsRead, .incidentsWrite, .alertsWrite, .monitoringWrite,
            ],
            lifetime: 3600,
            actor: .system
        ).token
    }

    static func things(of people: People, in app: TestApp) throws -> Things {
        let token = try app.app.tokens.create(
            user: people.id("tenant_admin@\(people.slug).test"), tenant: people.tenant, name: "own",
            scopes: [.requestsRead, .requestsWrite], lifetime: 3600, actor: .system)
        let bearer = [("Authorization", "Bearer \(token.token)"), ("Content-Type", "application/json")]
        let subject = "Secret plans of \(people.slug)"
        let filed = try app.send(
            "POST", "/api/v1/requests", headers: bearer,
            body: Array(#"{"subject": "\#(subject)", "type": "question", "priority": "P3"}"#.utf8))
        guard filed.status == 201, let made = try JSONSerialization.jsonObject(with: Data(filed.body)) as? [String: Any],
            let id = made["id"] as? String, let number = made["number"] as? String
        else { throw TestSetupError("filing in \(people.slug) answered \(filed.status)") }
        _ = try app.send(
            "POST", "/api/v1/requests/\(id)/comments", headers: bearer,
            body: Array(#"{"body": "comment of \#(people.slug)"}"#.utf8))
        let file = try app.send(
            "POST", "/api/v1/requests/\(id)/attachments?filename=notes.txt",
            headers: [("Authorization", "Bearer \(token.token)"), ("Content-Type", "text/plain")],
            body: Array("notes of \(people.slug)".utf8))
        guard file.status == 201,
            let attachment = (try JSONSerialization.jsonObject(with: Data(file.body)) as? [String: Any])?["id"] as? String
        else { throw TestSetupError("attaching in \(people.slug) answered \(file.status)") }
        let channel = try NotificationChannels(
            database: app.app.database, keyring: TestEnvironment.keyring, policy: DestinationPolicy(),
            world: app.app.world
        ).create(
            NewChannel(kind: "email", name: "Ops of \(people.slug)", target: "ops@\(people.slug).test", events: ["*"]),
            tenant: people.tenant, by: .person(people.id("tenant_admin@\(people.slug).test"), isStaff: false, origin: nil))
        let member = people.id("viewer@\(people.slug).test")
        _ = try people.signedIn("viewer@\(people.slug).test", in: app)
        let session = try app.database.connect().query("SELECT id FROM sessions WHERE user_id = $1 AND ended_at IS NULL LIMIT 1", [member])
        guard let sessionID = try session.first?.require(0, as: UUID.self) else { throw TestSetupError("no session of \(people.slug)") }
        var host = HostInput()
        (host.name, host.address, host.runtime) = ("gpu-of-\(people.slug)", "gpu.\(people.slug).example.net", "vllm")
        host.hostKeys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMXDqU6NM2+IkNN8NGJpuQyftkQy/5UkPdJhONr7BJkS"]
        let hostID = try HostStore(database: app.app.database, clock: app.app.world.clock).create(
            host, tenant: people.tenant, actor: .system
        ).id
        let access = try accessThings(of: people, in: app)
        let probe = try probeThings(of: people, in: app)
        let deployment = try deploymentThings(of: people, in: app)
        let costs = try costThings(of: people, in: app)
        let admin = people.id("tenant_admin@\(people.slug).test")
        let incident = try IncidentStore(database: app.app.database, clock: app.app.world.clock, publicURL: "http://purser.test").open(
            NewIncident(title: "Incident of \(people.slug)", severity: "SEV2", service: "svc-of-\(people.slug)"), tenant: people.tenant,
            principal: Principal(user: admin, tenantRole: .tenantAdmin, staffRole: nil, tenant: people.tenant), actor: .system)
        let runbookID = UUID()
        let statusToken = RandomSecret.base64url(32)
        let owner = try app.database.connect()
        try owner.query(
            """
            INSERT INTO runbooks (tenant_id, id, match_kind, match_value, title, body, updated_at)
            VALUES ($1, $2, 'service', $3, $4, 'steps', $5)
            """, [people.tenant, runbookID, "svc-of-\(people.slug)", "Runbook of \(people.slug)", app.app.world.now])
        try owner.query(
            "INSERT INTO status_pages (tenant_id, token_hash, created_at) VALUES ($1, $2, $3)",
            [people.tenant, Bytea(RandomSecret.hash(statusToken)), app.app.world.now])
        // Built a week on, so the incident and the probe target above are in it.
        let weekly = try WeeklyReportJob.run(
            app.app.database, tenant: people.tenant, now: app.app.world.now.addingTimeInterval(7 * 86400), publicURL: nil
        ).id
        return Things(
            slug: people.slug, requestID: id, requestNumber: number, attachmentID: attachment,
            channelID: channel.postgresText, memberID: member.postgresText, tokenID: token.id.postgresText,
            sessionID: sessionID.postgresText, budgetID: costs.budget, reviewMonth: costs.month, hostID: hostID.postgresText,
            accessRequestID: access.request.postgresText, accessGrantID: access.grant.postgresText,
            accessPolicyID: access.policy.postgresText,
            modelID: deployment.model.postgresText, deploymentID: deployment.deployment.postgresText,
            probeTargetID: probe.target.postgresText, maintenanceWindowID: probe.window.postgresText,
            incidentID: incident.id.postgresText, weeklyReportID: weekly.postgresText,
            runbookID: runbookID.postgresText, statusToken: statusToken,
            markers: [
                "Runbook of \(people.slug)",
                "Incident of \(people.slug)", "svc-of-\(people.slug)",
                "Budget of \(people.slug)", "Deal of \(people.slug)",
                "Model of \(people.slug)",
                "access reason of \(people.slug)", "Approver of \(people.slug)",
                "gpu-of-\(people.slug)", "gpu.\(people.slug).example.net", "probe-of-\(people.slug)",
                "maintenance of \(people.slug)",
                subject, "comment of \(people.slug)", "notes of \(people.slug)",
                "ops@\(people.slug).test", number,
            ])
    }

    /// An access policy, an access request of the tenant's requester and its approval (a grant).
    public static func accessThings(of people: People, in app: TestApp) throws -> (request: UUID, grant: UUID, policy: UUID) {
        let clock = app.app.world.clock
        let store = AccessStore(
            database: app.app.database, clock: clock, notices: AccessNotices(publicURL: "http://purser.test"),
            requests: RequestStore(database: app.app.database, clock: clock))
        let policy = AccessPolicy(
            id: UUID(), name: "Approver of \(people.slug)", kind: .role, role: "approver", requesterRoles: ["requester"], maxSeconds: 3600)
        try store.save(policy, tenant: people.tenant, actor: .system)
        let requester = people.id("requester@\(people.slug).test"), approver = people.id("approver@\(people.slug).test")
        let asked = try store.ask(
            NewAccessRequest(policyID: policy.id, reason: "access reason of \(people.slug)", durationSeconds: 3600), tenant: people.tenant,
            principal: Principal(user: requester, tenantRole: .requester, staffRole: nil, tenant: people.tenant),
            actor: .person(requester, isStaff: false, origin: nil))
        let decided = try store.decide(
            asked.id, tenant: people.tenant, approve: true, reason: "",
            principal: Principal(user: approver, tenantRole: .approver, staffRole: nil, tenant: people.tenant),
            actor: .person(approver, isStaff: false, origin: nil))
        guard let grant = decided.grant?.id else { throw TestSetupError("no grant in \(people.slug)") }
        return (asked.id, grant, policy.id)
    }

    /// An environment, a sandbox target, a model with a version, and a deployment of it filed by the
    /// tenant's requester (waiting for approval).
    public static func deploymentThings(of people: People, in app: TestApp) throws -> (model: UUID, deployment: UUID) {
        let (database, clock) = (app.app.database, app.app.world.clock)
        let requester = people.id("requester@\(people.slug).test")
        try database.inTenant(people.tenant) { tx in
            try tx.query(
                "INSERT INTO environments (tenant_id, id, name, position, created_at) VALUES ($1, $2, 'validation', 1, $3)",
                [people.tenant, UUID(), clock.now])
        }
        _ = try DeploymentTargets(database: database, keyring: TestEnvironment.keyring, clock: clock).create(
            NewTarget(name: "sandbox", kind: "sandbox"), tenant: people.tenant, by: requester, actor: .system)
        let registry = ModelRegistry(database: database, clock: clock)
        let model = try registry.register(
            NewModel(name: "Model of \(people.slug)", family: "Llama 3.1", source: "open_weights", licence: "Llama 3.1 Community Licence"),
            tenant: people.tenant, owner: requester, actor: .system)
        let version = try registry.addVersion(
            NewModelVersion(
                version: "1.0.0", artifactURI: "s3://models/\(people.slug)/1.0.0", digest: "sha256:" + String(repeating: "ab", count: 32),
                format: "safetensors", parameterCount: 8_000_000_000, contextLength: 8192, card: "Card of Model of \(people.slug)"),
            to: model.id, tenant: people.tenant, by: requester, actor: .system)
        let deployment = try DeploymentStore(
            database: database, clock: clock, requests: RequestStore(database: database, clock: clock), publicURL: "http://purser.test"
        ).file(
            NewDeployment(modelVersionID: version.id.postgresText, environment: "validation", target: "sandbox", strategy: "canary"),
            tenant: people.tenant, principal: Principal(user: requester, tenantRole: .requester, staffRole: nil, tenant: people.tenant),
            actor: .person(requester, isStaff: false, origin: nil))
        return (model.id, deployment.id)
    }

    /// A URL probed by hand, named for the tenant, and a maintenance window of it.
    static func probeThings(of people: People, in app: TestApp) throws -> (target: UUID, window: UUID) {
        var input = ProbeTargetInput()
        (input.name, input.url) = ("probe-of-\(people.slug)", "http://127.0.0.1:9/health")
        let target = try ProbeTargets(
            database: app.app.database, world: app.app.world, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: true, allowed: ["127.0.0.1/32"])
        ).create(input, tenant: people.tenant, actor: .system).id
        let now = app.app.world.now
        let window = try MaintenanceWindows.create(
            app.app.database, tenant: people.tenant, target: target, startsAt: now.addingTimeInterval(3600),
            endsAt: now.addingTimeInterval(7200), reason: "maintenance of \(people.slug)", actor: .system, at: now)
        return (target, window.id)
    }

    /// A budget, and last month's cost review archived (acme's for 2026-10, globex's for 2026-09).
    static func costThings(of people: People, in app: TestApp) throws -> (budget: String, month: String) {
        var input = BudgetInput()
        (input.name, input.amount) = ("Budget of \(people.slug)", "100")
        let budget = try BudgetStore(database: app.app.database, clock: app.app.world.clock).create(
            tenant: people.tenant, input, owner: nil, actor: .system)
        let month = people.slug == "acme" ? "2026-10" : "2026-09"
        // A negotiated price: the tenant's own terms, which only it (and staff) may read.
        try app.database.connect().query(
            """
            INSERT INTO tenant_prices (tenant_id, id, kind, provider, item, currency, effective_from, input_per_million,
                                       output_per_million, note, created_at)
            VALUES ($1, $2, 'tokens', 'openai', 'gpt-4o', 'USD', '2026-01-01', 1, 2, $3, $4)
            """, [people.tenant, UUID(), "Deal of \(people.slug)", app.app.world.clock.now])
        try app.database.connect().query(
            """
            INSERT INTO cost_reviews (tenant_id, month, currency, total_micros, previous_micros, figures, built_at)
            VALUES ($1, $2::date, 'USD', 0, 0, $3::jsonb, $4)
            """,
            [
                people.tenant, month + "-01",
                JSONText(
                    #"{"month": "\#(month)-01", "currency": "USD", "totalMicros": 0, "previousMicros": 0, "requests": 0, "lines": [], "#
                        + #""movers": [], "hints": ["Budget of \#(people.slug)"]}"#), app.app.world.clock.now,
            ])
        return (budget.id.postgresText, month)
    }

    /// `template` with its parameters taken from `things` (and `{tenant}` = `slug`), or nil naming
    /// a parameter the walk does not know.
    public static func fill(_ template: String, with things: Things, slug: String) -> Result<String, WalkProblem> {
        var path: [String] = []
        for segment in template.split(separator: "/", omittingEmptySubsequences: false).map(String.init) {
            guard segment.hasPrefix("{") else { path.append(segment); continue }
            let value: String?
            switch segment {
            case "{tenant}": value = slug
            case "{number}": value = things.requestNumber
            case "{user}": value = things.memberID
            case "{attachment}": value = things.attachmentID
            case "{id}" where template.contains("/attachments/{id}"): value = things.attachmentID
            case "{id}" where template.contains("/channels/{id}"): value = things.channelID
            case "{id}" where template.hasPrefix("/api/v1/requests/{id}"): value = things.requestID
            case "{id}" where template.contains("/tokens/{id}"): value = things.tokenID
            case "{id}" where template.contains("/sessions/{id}"): value = things.sessionID
            case "{id}" where template.contains("/budgets/{id}"): value = things.budgetID
            case "{month}": value = things.reviewMonth
            case "{id}" where template.hasPrefix("/t/{tenant}/access/{id}"): value = things.accessRequestID
            case "{id}" where template.hasPrefix("/api/v1/access/requests/{id}"): value = things.accessRequestID
            case "{id}" where template.hasPrefix("/api/v1/access/grants/{id}"): value = things.accessGrantID
            case "{id}" where template.hasPrefix("/api/v1/access/policies/{id}"): value = things.accessPolicyID
            case "{id}" where template.hasPrefix("/api/v1/hosts/{id}"): value = things.hostID
            case "{id}" where template.hasPrefix("/api/v1/models/{id}"): value = things.modelID
            case "{id}" where template.hasPrefix("/api/v1/deployments/{id}"): value = things.deploymentID
            case "{id}" where template.hasPrefix("/t/{tenant}/deployments/{id}"): value = things.deploymentID
            case "{id}" where template.hasPrefix("/t/{tenant}/endpoints/{id}"): value = things.probeTargetID
            case "{id}" where template.hasPrefix("/api/v1/probe-targets/{id}"): value = things.probeTargetID
            case "{id}" where template.hasPrefix("/api/v1/maintenance-windows/{id}"): value = things.maintenanceWindowID
            case "{id}" where template.hasPrefix("/t/{tenant}/incidents/{id}"): value = things.incidentID
            case "{id}" where template.hasPrefix("/api/v1/incidents/{id}"): value = things.incidentID
            case "{id}" where template.hasPrefix("/t/{tenant}/reports/weekly/{id}"): value = things.weeklyReportID
            case "{id}" where template.hasPrefix("/api/v1/reports/weekly/{id}"): value = things.weeklyReportID
            case "{id}" where template.hasPrefix("/api/v1/runbooks/{id}"): value = things.runbookID
            case "{token}": value = things.statusToken
            default: value = nil
            }
            guard let value else { return .failure(WalkProblem("teach the walk which id \(segment) of \(template) is")) }
            path.append(value)
        }
        return .success(path.joined(separator: "/"))
    }

    public struct WalkProblem: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// A plausible body for a POST, PATCH or DELETE of `template`, so that a refusal is about the
    /// tenant, not about a malformed request.
    static func body(for route: Route) -> (headers: [(name: String, value: String)], bytes: [UInt8]) {
        if route.template.hasSuffix("/attachments") && route.template.hasPrefix("/api/") {
            return ([("Content-Type", "text/plain")], Array("x".utf8))
        }
        if route.template.hasPrefix("/api/") {
            let json: String
            switch route.template {
            case "/api/v1/requests/{id}/comments": json = #"{"body": "x"}"#
            case "/api/v1/requests/{id}": json = #"{"state": "open"}"#
            case "/api/v1/requests": json = #"{"subject": "x", "type": "question", "priority": "P4"}"#
            case "/api/v1/tokens": json = #"{"name": "x", "scopes": ["requests:read"], "expires_in_days": 1}"#
            default: json = "{}"
            }
            return ([("Content-Type", "application/json"), ("If-Match", "\"v1\"")], Array(json.utf8))
        }
        return ([], [])
    }

    /// Every problem found: an answer that is not the wall where it should be, a server error where
    /// a route should simply answer, or another tenant's text in an answer.
    public func problems(routes: [Route]) throws -> [String] {
        var found: [String] = []
        for route in routes {
            let template = route.template
            if template.contains("{tenant}") {
                try pageProblems(route, into: &found)
            } else if template.hasPrefix("/api/") {
                try apiProblems(route, into: &found)
            } else if template.hasPrefix("/staff") {
                // Staff pages do not exist for customers, not even their tenant admins.
                let path = template.split(separator: "/", omittingEmptySubsequences: false).map { segment in
                    segment == "{slug}" ? theirs.slug : segment.hasPrefix("{") ? UUID().uuidString.lowercased() : String(segment)
                }.joined(separator: "/")
                let answer = route.method == .get ? try admin.get(path) : try admin.post(path, [], formToken: formToken)
                if answer.status != 404 { found.append("\(route.method.rawValue) \(path) answered \(answer.status) to a customer") }
            } else if template.hasPrefix("/account/") && template.contains("{") {
                // Another person's session or token, named from this person's account: not found, and untouched.
                switch Self.fill(template, with: theirs, slug: theirs.slug) {
                case .failure(let problem): found.append(problem.description)
                case .success(let path):
                    let answer = try admin.post(path, [], formToken: formToken)
                    if answer.status != 404 {
                        found.append("\(route.method.rawValue) \(path) answered \(answer.status) for another person")
                    }
                }
            } else if template == "/status/{token}" {
                // A public status page shows its own tenant only; another's token, a rotated or a
                // made-up one finds nothing.
                for (token, expected) in [(ours.statusToken, 200), (RandomSecret.base64url(32), 404)] {
                    let answer = try app.get("/status/\(token)")
                    if answer.status != expected { found.append("GET /status/{token} answered \(answer.status), not \(expected)") }
                    let text = String(decoding: answer.body, as: UTF8.self)
                    for marker in theirs.markers where text.contains(marker) {
                        found.append("GET /status/{token} of acme shows globex's \"\(marker)\"")
                    }
                }
            } else if route.method == .get && !template.contains("{") {
                // A route anyone may ask (or one that turns strangers away): no tenant's text in its answer.
                let answer = try app.get(template)
                let text = String(decoding: answer.body, as: UTF8.self)
                for marker in ours.markers + theirs.markers where text.contains(marker) {
                    found.append("GET \(template) shows \"\(marker)\" to someone not signed in")
                }
            }
        }
        return found
    }

    private func pageProblems(_ route: Route, into found: inout [String]) throws {
        let method = route.method.rawValue
        func ask(_ path: String) throws -> (status: Int, body: [UInt8]) {
            if route.method == .get { return try admin.get(path).parts }
            if route.template.hasSuffix("/attachments") {
                // A file, as a browser's form sends it: the refusal must be about the tenant, not the encoding.
                return (try admin.upload(path, file: try Self.sampleFile(), type: "text/plain", from: "/account"), [])
            }
            return try admin.post(
                path, [("role", "viewer"), ("email", "x@example.test"), ("name", "X"), ("body", "x")],
                formToken: formToken
            ).parts
        }
        // Another tenant, and one that does not exist, with that tenant's own ids: 404.
        for (slug, things) in [(theirs.slug, theirs), ("no-such-tenant", theirs)] {
            switch Self.fill(route.template, with: things, slug: slug) {
            case .failure(let problem): found.append(problem.description); return
            case .success(let path):
                let answer = try ask(path)
                if answer.status != 404 { found.append("\(method) \(path) answered \(answer.status) to acme's admin") }
            }
        }
        // Our own tenant with another tenant's ids: not found here either.
        if route.template.split(separator: "/").filter({ $0.hasPrefix("{") }).count > 1,
            case .success(let path) = Self.fill(route.template, with: theirs, slug: ours.slug)
        {
            let answer = try ask(path)
            if answer.status != 404 { found.append("\(method) \(path) (globex's ids under acme) answered \(answer.status)") }
        }
        // Our own tenant and ids: an answer, never a server error.
        if case .success(let path) = Self.fill(route.template, with: ours, slug: ours.slug) {
            let answer = try ask(path)
            if answer.status >= 500 { found.append("\(method) \(path) answered \(answer.status) in acme's own tenant") }
            let text = String(decoding: answer.body, as: UTF8.self)
            for marker in theirs.markers where text.contains(marker) { found.append("\(method) \(path) shows globex's \"\(marker)\"") }
        }
    }

    private func apiProblems(_ route: Route, into found: inout [String]) throws {
        let method = route.method.rawValue
        let (headers, body) = Self.body(for: route)
        func ask(_ path: String, _ token: String) throws -> ClientResponse {
            try app.send(method, path, headers: [("Authorization", "Bearer \(token)")] + headers, body: route.method == .get ? nil : body)
        }
        let names = route.template.contains("{")
        if names {
            guard case .success(let foreign) = Self.fill(route.template, with: theirs, slug: theirs.slug) else {
                if case .failure(let problem) = Self.fill(route.template, with: theirs, slug: theirs.slug) {
                    found.append(problem.description)
                }
                return
            }
            // Globex's ids with acme's customer token, and with a staff token acting in acme: not found (or no scope).
            for (path, token, who) in [(foreign, customerToken, "acme's token"), (foreign + "?tenant=acme", staffToken, "staff in acme")] {
                let answer = try ask(path, token)
                if answer.status != 404 && answer.status != 403 { found.append("\(method) \(path) answered \(answer.status) to \(who)") }
            }
        }
        // Acme's own: an answer, never a server error, and nothing of globex's in it.
        let own: String
        switch Self.fill(route.template, with: ours, slug: ours.slug) {
        case .success(let path): own = path
        case .failure: return
        }
        for (path, token) in [(own, customerToken), (own + (own.contains("?") ? "&" : "?") + "tenant=acme", staffToken)] {
            let answer = try ask(path, token)
            if answer.status >= 500 { found.append("\(method) \(path) answered \(answer.status)") }
            let text = String(decoding: answer.body, as: UTF8.self)
            for marker in theirs.markers where text.contains(marker) { found.append("\(method) \(path) shows globex's \"\(marker)\"") }
        }
    }

    static func sampleFile() throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("purser-walk-\(UUID().uuidString).txt")
        try Data("x".utf8).write(to: file)
        return file
    }

    /// What globex holds, to compare before and after the walk: nothing of it may change.
    public func globexState() throws -> [Int] {
        let db = try app.database.connect()
        return try [
            "SELECT count(*) FROM memberships WHERE tenant_id = $1 AND status = 'active'",
            "SELECT count(*) FROM requests WHERE tenant_id = $1",
            "SELECT count(*) FROM request_comments WHERE tenant_id = $1",
            "SELECT count(*) FROM request_attachments WHERE tenant_id = $1",
            "SELECT count(*) FROM notification_channels WHERE tenant_id = $1",
            "SELECT count(*) FROM incidents WHERE tenant_id = $1",
            "SELECT count(*) FROM incident_events WHERE tenant_id = $1",
            "SELECT count(*) FROM runbooks WHERE tenant_id = $1",
            "SELECT count(*) FROM api_tokens WHERE tenant_id = $1 AND revoked_at IS NULL",
            "SELECT count(*) FROM sessions s JOIN memberships m ON m.user_id = s.user_id WHERE m.tenant_id = $1 AND s.ended_at IS NULL",
        ]
        .map { try db.query($0, [globex.tenant])[0].require(0, as: Int.self) }
    }
}
