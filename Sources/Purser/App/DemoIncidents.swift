// Demo incidents for `purser dev`: Acme's escalation policy and a runbook, a SEV2 that an
// Alertmanager alert opened two days ago and that resolved itself when the alert did, with its
// postmortem and an action item, and a SEV3 still open, acknowledged by the platform team. All go
// through the intake and the stores, so their requests, timelines, jobs and notices are real.
import Foundation
import Postgres

enum DemoIncidents {
    /// Where `purser dev` listens unless told otherwise: the links in the demo's notices.
    static let publicURL = "http://127.0.0.1:8080"

    static func seed(database: Database, tenant: UUID, clock: any WallClock) throws {
        let now = clock.now
        func person(_ email: String) throws -> (actor: AuditActor, principal: Principal) {
            let row = try database.pool.query("SELECT id, staff_role FROM users WHERE email = $1", [email])[0]
            let staffRole = try row.decode(1, as: String.self).flatMap(StaffRole.init(rawValue:))
            let id: UUID = try row.require(0)
            return (
                .person(id, isStaff: staffRole != nil, origin: nil),
                Principal(user: id, tenantRole: staffRole == nil ? .tenantAdmin : nil, staffRole: staffRole, tenant: tenant)
            )
        }
        let ada = try person("admin@acme.test"), pat = try person("platform@purser.test"), cass = try person("cse@purser.test")
        // A store whose clock reads `at`: each step happens when the story says, not all at once.
        func store(at: Date) -> IncidentStore { IncidentStore(database: database, clock: SettableClock(at), publicURL: publicURL) }

        try database.inTenant(tenant) { tx in
            try EscalationPolicies.save(
                tx, tenant: tenant,
                levels: [
                    EscalationLevel(afterMinutes: 0, people: [ada.principal.user, pat.principal.user]),
                    EscalationLevel(afterMinutes: 15, people: [cass.principal.user]),
                ], by: ada.principal.user, actor: ada.actor, at: now.addingTimeInterval(-7 * 86400))
            try Runbooks.save(
                tx, tenant: tenant, match: "alertname", value: "GPUMemoryHigh", title: "GPU memory above 90 %",
                body: """
                    1. Open the host's page and check which model holds the memory (`nvidia-smi`).
                    2. If a batch job shares the GPU, move it to the pool.
                    3. If the serving process grows without load, restart it during a quiet minute and note it on the incident.
                    """, by: ada.principal.user, actor: ada.actor, at: now.addingTimeInterval(-7 * 86400))
        }

        // Two days ago: the fraud model's error rate, from Alertmanager, for 50 minutes.
        let began = now.addingTimeInterval(-2 * 86400)
        let errors = IncidentSignal(
            source: .alertmanager, fingerprint: "demo:fraud-scoring:errors", alertname: "HighErrorRate", service: "fraud-scoring",
            severity: IncidentSeverity.fromLabel("error"), status: .firing, title: "fraud-scoring-v7 answers 5xx to 7 % of requests",
            description: "Error rate over 5 % for 5 minutes on `fraud-scoring-v7` (eu-central).",
            labels: ["alertname": "HighErrorRate", "service": "fraud-scoring", "severity": "error", "region": "eu-central"],
            annotations: ["summary": "fraud-scoring-v7 answers 5xx to 7 % of requests"], startsAt: began)
        let opened = try database.inTenant(tenant) { tx in
            try IncidentIntake.receive(
                tx, database: database, tenant: tenant, signals: [errors], reporter: nil, actor: .system, at: began,
                publicURL: publicURL)
        }
        guard let sev2 = opened.opened.first else { return }
        _ = try store(at: began.addingTimeInterval(4 * 60)).acknowledge(sev2, tenant: tenant, principal: pat.principal, actor: pat.actor)
        _ = try store(at: began.addingTimeInterval(25 * 60)).change(
            sev2, tenant: tenant, change: IncidentChange(state: IncidentState.mitigated.rawValue), expected: nil, principal: pat.principal,
            actor: pat.actor)
        var recovered = errors
        (recovered.status, recovered.endsAt) = (.resolved, began.addingTimeInterval(50 * 60))
        try database.inTenant(tenant) { tx in
            _ = try IncidentIntake.receive(
                tx, database: database, tenant: tenant, signals: [recovered], reporter: nil, actor: .system,
                at: began.addingTimeInterval(51 * 60), publicURL: publicURL)
            let written = began.addingTimeInterval(86400)
            try Postmortems.save(
                tx, tenant: tenant, incident: sev2,
                text: PostmortemText(
                    summary: "fraud-scoring-v7 answered 5xx to up to 7 % of requests for 50 minutes.",
                    impact: "About 4,100 card authorisations fell back to the rules engine; none were lost.",
                    timeline: "Alert at +0 min, acknowledged at +4 min, traffic moved off eu-central-2 at +25 min, errors gone at +50 min.",
                    rootCause:
                        "A batch job of another tenant filled the GPU memory of pool eu-central-2, so the model's pods were evicted.",
                    wentWell: "The alert fired within five minutes and the runbook's first step found the batch job."),
                by: pat.principal.user, actor: pat.actor, at: written)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let due = calendar.dateComponents([.year, .month, .day], from: now.addingTimeInterval(14 * 86400))
            try Postmortems.addAction(
                tx, tenant: tenant, incident: sev2,
                item: PostmortemActionInput(
                    title: "Keep batch jobs off the GPUs that serve real-time models", ownerID: pat.principal.user,
                    dueOn: String(format: "%04d-%02d-%02d", due.year!, due.month!, due.day!)),
                by: pat.principal.user, actor: pat.actor, at: written)
        }

        // Twenty minutes ago: a warning on a GPU host, acknowledged and still open.
        let warned = now.addingTimeInterval(-20 * 60)
        let memory = IncidentSignal(
            source: .alertmanager, fingerprint: "demo:gpu-a1:memory", alertname: "GPUMemoryHigh", service: "gpu-a1",
            severity: IncidentSeverity.fromLabel("warning"), status: .firing, title: "GPU memory above 90 % on gpu-a1",
            description: "7 of 8 GPUs on gpu-a1 have used over 90 % of their memory for 10 minutes.",
            labels: ["alertname": "GPUMemoryHigh", "service": "gpu-a1", "severity": "warning"],
            annotations: ["summary": "GPU memory above 90 % on gpu-a1"], startsAt: warned)
        let open = try database.inTenant(tenant) { tx in
            try IncidentIntake.receive(
                tx, database: database, tenant: tenant, signals: [memory], reporter: nil, actor: .system, at: warned, publicURL: publicURL)
        }
        if let sev3 = open.opened.first {
            _ = try store(at: warned.addingTimeInterval(6 * 60)).acknowledge(
                sev3, tenant: tenant, principal: pat.principal, actor: pat.actor)
        }
    }
}
