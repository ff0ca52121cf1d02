// The service levels a tenant is promised, at /t/{tenant}/sla: everyone in the tenant reads
// them; provider admins change them (or return the tenant to its plan's).
import Foundation
import HTTPServer

enum SLAPages {
    struct TargetRow: Encodable, Sendable {
        let priority: String
        let meaning: String
        let firstAmount: Int
        let firstUnits: [RequestPages.Option]
        let firstLabel: String
        let resolutionAmount: Int
        let resolutionUnits: [RequestPages.Option]
        let resolutionLabel: String
    }

    struct Day: Encodable, Sendable {
        let number: String
        let name: String
        let working: Bool
    }

    struct PolicyPage: TemplateModel {
        let formToken: String
        let policyLink: SiteURL
        let tenantName: String
        let own: Bool
        let canEdit: Bool
        let timeZone: String
        let days: [Day]
        let start: String
        let end: String
        let holidays: String
        let warningPercent: Int
        let targets: [TargetRow]
        let deploymentAmount: Int
        let deploymentUnits: [RequestPages.Option]
        let deploymentLabel: String
        let escalations: [RequestPages.Option]
        let reopenDays: Int
        var errors: [FieldError] = []
    }

    static func units(_ selected: SLATarget.Unit) -> [RequestPages.Option] {
        SLATarget.Unit.allCases.map { RequestPages.Option(value: $0.rawValue, label: $0.label, selected: $0 == selected) }
    }

    static func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }

    static func minutes(_ text: String?) -> Int? {
        let parts = (text ?? "").split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, (0...24).contains(parts[0]), (0..<60).contains(parts[1]), parts[0] * 60 + parts[1] <= 1440 else {
            return nil
        }
        return parts[0] * 60 + parts[1]
    }

    static func page(
        _ policy: SLAPolicy, own: Bool, canEdit: Bool, tenant: TenantMembership, visitor: Visitor,
        errors: [FieldError] = []
    ) -> PolicyPage {
        let names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        let firstSpan = policy.hours.values.compactMap(\.first).first ?? BusinessCalendar.Span(start: 540, end: 1020)
        return PolicyPage(
            formToken: visitor.formToken, policyLink: .slaPolicy(tenant.slug), tenantName: tenant.name, own: own, canEdit: canEdit,
            timeZone: policy.timeZone,
            days: (1...7).map { Day(number: String($0), name: names[$0 - 1], working: !(policy.hours[String($0)] ?? []).isEmpty) },
            start: clock(firstSpan.start), end: clock(firstSpan.end), holidays: policy.holidays.sorted().joined(separator: "\n"),
            warningPercent: Int((policy.warningShare * 100).rounded()),
            targets: RequestPriority.allCases.map { priority in
                let pair = policy.targets(for: priority.rawValue)
                return TargetRow(
                    priority: priority.rawValue, meaning: priority.meaning,
                    firstAmount: pair.firstResponse.amount, firstUnits: units(pair.firstResponse.unit),
                    firstLabel: pair.firstResponse.label, resolutionAmount: pair.resolution.amount,
                    resolutionUnits: units(pair.resolution.unit), resolutionLabel: pair.resolution.label)
            },
            deploymentAmount: policy.deployment.amount, deploymentUnits: units(policy.deployment.unit),
            deploymentLabel: policy.deployment.label,
            escalations: [
                RequestPages.Option(
                    value: "raise", label: "mark escalated, for the group lead's queue",
                    selected: policy.escalation == .raise),
                RequestPages.Option(
                    value: "reassign", label: "give the request to the group lead",
                    selected: policy.escalation == .reassign),
            ],
            reopenDays: policy.reopenWindow, errors: errors)
    }

    /// The policy the form describes; problems are named by field.
    static func policy(from form: QueryParameters) throws -> SLAPolicy {
        var errors: [FieldError] = []
        func target(_ name: String) -> SLATarget {
            guard let amount = Int(form[name + "_amount"] ?? ""), let unit = SLATarget.Unit(rawValue: form[name + "_unit"] ?? "") else {
                errors.append(FieldError(field: name.replacingOccurrences(of: "_", with: " "), detail: "give a whole number and a unit"))
                return SLATarget(1, .hours)
            }
            return SLATarget(amount, unit)
        }
        let start = minutes(form["start"]), end = minutes(form["end"])
        if start == nil || end == nil || start! >= end! {
            errors.append(FieldError(field: "working hours", detail: "from and to as HH:MM, from before to"))
        }
        let days = form.pairs.filter { $0.name == "day" }.map(\.value).filter { Int($0).map((1...7).contains) == true }
        let span = BusinessCalendar.Span(start: start ?? 540, end: end ?? 1020)
        var targets: [String: SLAPolicy.Targets] = [:]
        for priority in RequestPriority.allCases.map(\.rawValue) {
            targets[priority] = SLAPolicy.Targets(firstResponse: target(priority + "_first"), resolution: target(priority + "_resolution"))
        }
        let policy = SLAPolicy(
            timeZone: (form["time_zone"] ?? "").trimmingCharacters(in: .whitespaces),
            hours: Dictionary(uniqueKeysWithValues: days.map { ($0, [span]) }),
            holidays: (form["holidays"] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty },
            warningShare: Double(form["warning_percent"] ?? "").map { $0 / 100 } ?? -1, targets: targets,
            deployment: target("deployment"), escalation: SLAPolicy.Escalation(rawValue: form["escalation"] ?? "") ?? .raise,
            reopenDays: Int(form["reopen_days"] ?? "") ?? -1)
        errors += policy.problems()
        if !errors.isEmpty { throw ValidationError(errors) }
        return policy
    }

    static func register(in routes: inout RouteTable, site: Site, policies: SLAPolicies) {
        routes.tenant(.get, .slaPolicy, permission: .requestsRead) { ctx in
            let (policy, own) = try policies.effective(tenant: ctx.tenant.id)
            return site.page(
                "sla/policy", title: "Service levels · \(ctx.tenant.name)",
                page(policy, own: own, canEdit: ctx.principal.can(.tenantsManage), tenant: ctx.tenant, visitor: ctx.visitor),
                visitor: ctx.visitor, tenant: ctx.tenant)
        }

        routes.tenant(.post, .slaPolicy, permission: .tenantsManage, options: .form) { ctx in
            let form = try ctx.form()
            if form["inherit"] == "1" {
                try policies.set(nil, tenant: ctx.tenant.id, actor: ctx.actor)
                return .redirect(to: SiteURL.slaPolicy(ctx.tenant.slug).path)
            }
            do {
                // The form does not show the endpoint objectives ("uptime", docs/monitoring.md): they are kept as they were.
                var made = try policy(from: form)
                made.uptime = try policies.effective(tenant: ctx.tenant.id).policy.uptime
                try policies.set(made, tenant: ctx.tenant.id, actor: ctx.actor)
                return .redirect(to: SiteURL.slaPolicy(ctx.tenant.slug).path)
            } catch let error as ValidationError {
                let (current, own) = try policies.effective(tenant: ctx.tenant.id)
                return site.page(
                    "sla/policy", title: "Service levels · \(ctx.tenant.name)",
                    page(current, own: own, canEdit: true, tenant: ctx.tenant, visitor: ctx.visitor, errors: error.fieldErrors),
                    status: error.status, visitor: ctx.visitor, tenant: ctx.tenant)
            }
        }
    }
}
