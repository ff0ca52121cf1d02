import Foundation
import HTTPClient
@testable import Purser
import Testing
import TestSupport

/// The service-levels page (read by the tenant, changed by provider admins) and the groups page.
@Suite struct SLAPagesTests {
    let app: TestApp
    let people: People

    init() throws {
        app = try TestApp()
        people = try People(app, staff: true)
    }

    func admin() throws -> WebVisitor {
        try people.signedIn("provider_admin@staff.test", in: app, totp: try people.enableSecondFactor("provider_admin@staff.test", in: app))
    }

    func fields(timeZone: String = "Europe/Zurich", p1First: String = "30") -> [(String, String)] {
        var fields: [(String, String)] = [
            ("time_zone", timeZone), ("start", "08:00"), ("end", "18:00"), ("holidays", "2026-12-25\n2026-12-26"),
            ("warning_percent", "80"), ("escalation", "reassign"), ("deployment_amount", "2"),
            ("deployment_unit", "hours"), ("reopen_days", "30"),
        ]
        fields += (1...5).map { ("day", String($0)) }
        for priority in ["P1", "P2", "P3", "P4"] {
            fields += [
                ("\(priority)_first_amount", priority == "P1" ? p1First : "2"),
                ("\(priority)_first_unit", priority == "P1" ? "minutes" : "business_hours"),
                ("\(priority)_resolution_amount", "3"), ("\(priority)_resolution_unit", "business_days"),
            ]
        }
        return fields
    }

    @Test func providerAdminsSetATenantsServiceLevelsAndCustomersReadThem() throws {
        let customer = try people.signedIn("requester@acme.test", in: app)
        let before = try customer.get("/t/acme/sla")
        #expect(before.status == 200 && before.text.contains("15 minutes") && before.text.contains("plan"))
        #expect(try customer.post("/t/acme/sla", fields(), from: "/t/acme/sla").status == 404)

        let admin = try admin()
        let saved = try admin.post("/t/acme/sla", fields(), from: "/t/acme/sla")
        #expect(saved.status == 303, "\(saved.text)")
        let (policy, own) = try SLAPolicies(database: app.app.database, clock: app.app.world.clock).effective(tenant: people.tenant)
        #expect(own)
        #expect(policy.timeZone == "Europe/Zurich" && policy.holidays == ["2026-12-25", "2026-12-26"] && policy.warningShare == 0.8)
        #expect(policy.targets["P1"]?.firstResponse == SLATarget(30, .minutes))
        #expect(policy.targets["P3"]?.resolution == SLATarget(3, .businessDays))
        #expect(policy.hours["1"] == [BusinessCalendar.Span(start: 480, end: 1080)] && policy.hours["6"] == nil)
        #expect(policy.escalation == .reassign && policy.reopenWindow == 30)
        #expect(try customer.get("/t/acme/sla").text.contains("30 minutes"))

        let bad = try admin.post("/t/acme/sla", fields(timeZone: "Mars/Olympus", p1First: "zero"), from: "/t/acme/sla")
        #expect(bad.status == 422)
        #expect(bad.text.contains("name a time zone such as Europe/Zurich") && bad.text.contains("P1 first"))
        // A target beyond a year is refused: in hours it overflowed seconds (a trap on the next
        // filing), in business days the due date was walked day by day.
        for (amount, unit) in [("99999999999999999", "hours"), ("100000000", "business_days"), ("9999999999", "minutes")] {
            var huge = fields()
            huge.removeAll { $0.0 == "P1_first_amount" || $0.0 == "P1_first_unit" }
            huge += [("P1_first_amount", amount), ("P1_first_unit", unit)]
            let refused = try admin.post("/t/acme/sla", huge, from: "/t/acme/sla")
            #expect(refused.status == 422 && refused.text.contains("a target is 1 to"), "\(amount) \(unit)")
        }
        #expect(try admin.post("/t/acme/sla", [("inherit", "1")], from: "/t/acme/sla").status == 303)
        #expect(try SLAPolicies(database: app.app.database, clock: app.app.world.clock).effective(tenant: people.tenant).own == false)
        #expect(
            try app.database.connect().query("SELECT count(*) FROM audit_events WHERE action = 'sla.policy_set'")[0]
                .require(0, as: Int.self) == 2)
    }

    @Test func groupsAreMadeWithALeadAndRouteNewRequests() throws {
        let admin = try admin()
        let made = try admin.post(
            "/staff/groups",
            [
                ("name", "Platform"), ("lead", "platform_engineer@staff.test"),
                ("members", "cse@staff.test"), ("type", "deployment"), ("type", "change"),
            ],
            from: "/staff/groups")
        #expect(made.status == 303)
        let page = try admin.get("/staff/groups")
        #expect(page.text.contains("<td>Platform</td><td>platform_engineer</td><td>deployment, change</td><td>cse</td>"))
        let refused = try admin.post("/staff/groups", [("name", "Ghosts"), ("members", "requester@acme.test")], from: "/staff/groups")
        #expect(refused.status == 422 && refused.text.contains("requester@acme.test is not an active staff member"))
        let filed = try RequestStore(database: app.app.database, clock: app.app.world.clock).create(
            NewRequest(subject: "Roll out v3", type: "deployment", priority: "P2"), tenant: people.tenant,
            requester: people.id("requester@acme.test"), actor: AuditActor(kind: .user, id: nil))
        #expect(filed.group?.name == "Platform")
        #expect(filed.clocks[.deployment]?.dueAt != nil)
    }
}
