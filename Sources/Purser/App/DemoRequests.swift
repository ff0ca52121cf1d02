// Demo service requests for `purser dev`: groups with leads, Acme's own service levels in its
// time zone, and a handful of requests in different states, filed through the real stores so
// that their SLA clocks, jobs, activity and notices are what production would have.
import Foundation
import Postgres

enum DemoRequests {
    static func seed(database: Database, tenant: UUID, clock: any WallClock) throws {
        let groups = RequestGroups(database: database, clock: clock)
        try groups.save(
            name: "Incidents", leadEmail: "platform@purser.test", types: ["incident", "access"],
            memberEmails: ["cse@purser.test"], actor: .system)
        try groups.save(
            name: "Platform", leadEmail: "platform@purser.test", types: ["deployment", "change"],
            memberEmails: ["cse@purser.test"], actor: .system)
        try groups.save(
            name: "Customer success", leadEmail: "cse@purser.test", types: ["question"], memberEmails: [],
            actor: .system)
        var policy = SLAPolicy.standard
        policy.timeZone = "Europe/Zurich"
        policy.hours = Dictionary(uniqueKeysWithValues: (1...5).map { (String($0), [BusinessCalendar.Span(start: 480, end: 1080)]) })
        policy.holidays = ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"]
        try SLAPolicies(database: database, clock: clock).set(policy, tenant: tenant, actor: .system)

        let store = RequestStore(database: database, clock: clock), comments = RequestComments(database: database, clock: clock)
        func person(_ email: String) throws -> (actor: AuditActor, principal: Principal) {
            let row = try database.pool.query("SELECT id, staff_role FROM users WHERE email = $1", [email])[0]
            let staffRole = try row.decode(1, as: String.self).flatMap(StaffRole.init(rawValue:))
            let id: UUID = try row.require(0)
            return (
                .person(id, isStaff: staffRole != nil, origin: nil),
                Principal(user: id, tenantRole: staffRole == nil ? .requester : nil, staffRole: staffRole, tenant: tenant)
            )
        }
        let rita = try person("requester@acme.test"), cass = try person("cse@purser.test")
        func file(_ subject: String, _ description: String, _ type: String, _ priority: String) throws -> ServiceRequest {
            try store.create(
                NewRequest(subject: subject, description: description, type: type, priority: priority), tenant: tenant,
                requester: rita.principal.user, actor: rita.actor)
        }
        func reply(
            _ request: ServiceRequest, _ body: String, by who: (actor: AuditActor, principal: Principal),
            isInternal: Bool = false
        ) throws {
            _ = try comments.add(
                to: request.id, tenant: tenant, body: body, isInternal: isInternal, principal: who.principal,
                actor: who.actor)
        }
        func move(_ request: ServiceRequest, _ change: RequestStore.Change) throws {
            _ = try store.update(
                request.id, tenant: tenant, change: change, expected: nil, principal: cass.principal,
                actor: cass.actor)
        }
        let slow = try file(
            "Fraud model endpoint answers slowly",
            "Since **09:00** the p95 latency of `fraud-scoring-v7` is over 2 s (normally 300 ms).\n\n- region: eu-central\n- traffic: normal",
            "incident", "P2")
        try move(slow, RequestStore.Change(state: "open", assigneeID: cass.principal.user))
        try reply(slow, "Looking into it: the autoscaler is at its maximum. I'll raise the ceiling and report back.", by: cass)
        try reply(slow, "Pool eu-central-2 is saturated by a batch job from another tenant; moving it.", by: cass, isInternal: true)
        let deploy = try file(
            "Deploy fine-tuned credit model v3 to production",
            "Please roll out `credit-risk-v3` (approved in change board CB-118) behind the existing endpoint.",
            "deployment", "P3")
        try move(deploy, RequestStore.Change(state: "open"))
        let quota = try file(
            "Raise the GPU quota for the research project", "We need 8 more A100 hours a day for the next quarter.",
            "change", "P3")
        try reply(quota, "Could you tell us which project code to bill this to?", by: cass)
        try move(quota, RequestStore.Change(state: "pending_customer"))
        _ = try file("How are tokens counted on the invoice?", "Are system prompts billed per call?", "question", "P4")
        let access = try file(
            "Read access to the evaluation bucket for two analysts",
            "Anna and Ben need read access to `s3://acme-eval` for the Q4 review.", "access", "P3")
        try reply(access, "Done: both have read access until the end of January.", by: cass)
        try move(access, RequestStore.Change(state: "resolved"))
    }
}
