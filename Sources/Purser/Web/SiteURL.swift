// Every path Purser serves, written once. `SitePage` (pages) and `APIPath` (the JSON API) name each
// route's template — the route table registers them — and `SiteURL` is one link to a page with its
// values filled in: what templates, redirects, e-mails and `Location` headers carry. No other code
// writes an app path; a test fails on a literal one in a template.
import Foundation
import struct HTTPServer.QueryParameters

/// A page's route template. Segments in braces are filled by `SiteURL`, in order.
public enum SitePage: String, CaseIterable, Sendable {
    // Anyone
    case home = "/"
    case signIn = "/sign-in"
    case signInTwoFactor = "/sign-in/two-factor"
    case signOut = "/sign-out"
    case link = "/links/{token}"
    case healthz = "/healthz"
    case readyz = "/readyz"
    case apiDocument = "/api/openapi.json"
    // Published to every host: the SSH CA's public key and its KRL (no sign-in, like the document).
    case sshCAPublicKey = "/api/v1/ssh/ca.pub"
    case sshKRL = "/api/v1/ssh/krl"
    // A tenant's public status page, by its random token (never under /t/: no tenant is named).
    case publicStatus = "/status/{token}"
    /// The jobs page's address in other tools; answered with a permanent redirect.
    case adminJobs = "/admin/jobs"

    // A signed-in person's own pages
    case start = "/start"
    case account = "/account"
    case accountPassword = "/account/password"
    case accountNotifications = "/account/notifications"
    case accountTokens = "/account/tokens"
    case accountTokenRevoke = "/account/tokens/{id}/revoke"
    case accountSessionEnd = "/account/sessions/{id}/end"
    case accountSessionsEndAll = "/account/sessions/end-all"
    case twoFactor = "/account/two-factor"
    case twoFactorDisable = "/account/two-factor/disable"
    case twoFactorRecoveryCodes = "/account/two-factor/recovery-codes"

    // A tenant's pages
    case tenant = "/t/{tenant}"
    case members = "/t/{tenant}/members"
    case memberRole = "/t/{tenant}/members/{user}/role"
    case memberDeactivate = "/t/{tenant}/members/{user}/deactivate"
    case notifications = "/t/{tenant}/notifications"
    case channels = "/t/{tenant}/notifications/channels"
    case channelTest = "/t/{tenant}/notifications/channels/{id}/test"
    case channelDelete = "/t/{tenant}/notifications/channels/{id}/delete"
    case audit = "/t/{tenant}/audit"
    case auditCSV = "/t/{tenant}/audit.csv"
    case requests = "/t/{tenant}/requests"
    case requestNew = "/t/{tenant}/requests/new"
    case request = "/t/{tenant}/requests/{number}"
    case requestComments = "/t/{tenant}/requests/{number}/comments"
    case requestUpdate = "/t/{tenant}/requests/{number}/update"
    case requestWatch = "/t/{tenant}/requests/{number}/watch"
    case requestAttachments = "/t/{tenant}/requests/{number}/attachments"
    case requestAttachment = "/t/{tenant}/requests/{number}/attachments/{id}"
    case slaPolicy = "/t/{tenant}/sla"
    case slaReport = "/t/{tenant}/reports/sla"
    case slaReportCSV = "/t/{tenant}/reports/sla.csv"
    case models = "/t/{tenant}/models"
    case deployments = "/t/{tenant}/deployments"
    case deploymentNew = "/t/{tenant}/deployments/new"
    case deployment = "/t/{tenant}/deployments/{id}"
    /// GET: a confirmation page only (the approvers' mail links here); POST decides.
    case deploymentApproval = "/t/{tenant}/deployments/{id}/approval"
    case deploymentAction = "/t/{tenant}/deployments/{id}/action"
    case deploymentPolicies = "/t/{tenant}/deployments/policies"
    // Just-in-time access: {id} is an access request's id; its grant is shown and acted on there.
    case access = "/t/{tenant}/access"
    case accessRequest = "/t/{tenant}/access/{id}"
    case accessDecide = "/t/{tenant}/access/{id}/decide"
    case accessWithdraw = "/t/{tenant}/access/{id}/withdraw"
    case accessRevoke = "/t/{tenant}/access/{id}/revoke"
    case accessCertificate = "/t/{tenant}/access/{id}/certificate"
    case accessPolicies = "/t/{tenant}/access-policies"
    case costs = "/t/{tenant}/costs"
    case costsCSV = "/t/{tenant}/costs.csv"
    case budgets = "/t/{tenant}/costs/budgets"
    case budget = "/t/{tenant}/costs/budgets/{id}"
    case budgetDelete = "/t/{tenant}/costs/budgets/{id}/delete"
    case costReviews = "/t/{tenant}/costs/reviews"
    case costReview = "/t/{tenant}/costs/reviews/{month}"
    case hosts = "/t/{tenant}/hosts"
    // Monitoring: {id} is a probe target's id (a deployment endpoint's or a URL added by hand).
    case endpoints = "/t/{tenant}/endpoints"
    case endpoint = "/t/{tenant}/endpoints/{id}"
    case uptimeReport = "/t/{tenant}/reports/uptime"
    case uptimeReportCSV = "/t/{tenant}/reports/uptime.csv"
    case weeklyReports = "/t/{tenant}/reports/weekly"
    case weeklyReport = "/t/{tenant}/reports/weekly/{id}"
    case weeklyReportCSV = "/t/{tenant}/reports/weekly/{id}/weekly-report.csv"
    case tenantStatus = "/t/{tenant}/status"
    case costsUpload = "/t/{tenant}/costs/upload"
    // Incidents: {id} is an incident's id; its linked request carries replies and notes.
    case incidents = "/t/{tenant}/incidents"
    case incident = "/t/{tenant}/incidents/{id}"
    case incidentAcknowledge = "/t/{tenant}/incidents/{id}/acknowledge"
    case incidentUpdate = "/t/{tenant}/incidents/{id}/update"
    case incidentComments = "/t/{tenant}/incidents/{id}/comments"
    case incidentPostmortem = "/t/{tenant}/incidents/{id}/postmortem"
    case incidentActions = "/t/{tenant}/incidents/{id}/actions"
    case runbooks = "/t/{tenant}/runbooks"
    case escalationPolicy = "/t/{tenant}/escalation"

    // Provider staff
    case staff = "/staff"
    case staffTenants = "/staff/tenants"
    case staffTenantStatus = "/staff/tenants/{slug}/status"
    case staffTenantTimeZone = "/staff/tenants/{slug}/time-zone"
    case staffResetLinks = "/staff/reset-links"
    case staffRequests = "/staff/requests"
    case staffRequestsBulk = "/staff/requests/bulk"
    case staffRequestViews = "/staff/requests/views"
    case staffGroups = "/staff/groups"
    case staffAudit = "/staff/audit"
    case staffAuditCSV = "/staff/audit.csv"
    case staffJobs = "/staff/jobs"
    case staffJobRetry = "/staff/jobs/{id}/retry"
    case staffJobCancel = "/staff/jobs/{id}/cancel"
    case staffSLAReport = "/staff/reports/sla"
    case staffSLAReportCSV = "/staff/reports/sla.csv"
    case staffDeployments = "/staff/deployments"
    case staffTargets = "/staff/targets"
    case staffEnvironments = "/staff/targets/environments"
    case staffAccess = "/staff/access"
    case staffCosts = "/staff/costs"
    case staffCostsCSV = "/staff/costs.csv"
    case staffHosts = "/staff/hosts"
    case staffProviderChannels = "/staff/provider-channels"
    case staffPrices = "/staff/prices"
    case staffPriceMarkups = "/staff/prices/markups"
    case staffIncidents = "/staff/incidents"

    // Development only: mail `purser dev` kept instead of sending (DevMailPages)
    case devMail = "/dev/mail"
    case devMailMessage = "/dev/mail/{id}"
    case devMailHTML = "/dev/mail/{id}/html"

    /// The route template, as the router matches it.
    public var template: String { rawValue }

    /// This page as a link; only for pages whose template has no `{…}` segment.
    public var url: SiteURL { SiteURL(self) }
}

/// One link to a page: its values in the template's segments, a query and a fragment.
public struct SiteURL: Sendable, Hashable, CustomStringConvertible, Encodable {
    public let page: SitePage
    private let values: [String]
    private var query: [Pair] = []
    private var fragment: String?

    private struct Pair: Sendable, Hashable {
        let name: String
        let value: String
    }

    /// `values` fill the template's `{…}` segments in order; a test holds every constructor below to its template.
    init(_ page: SitePage, _ values: String...) {
        self.page = page
        self.values = values
    }

    /// The path with its query and fragment, as a link on one of Purser's own pages.
    public var path: String {
        var filled = PathTemplate.fill(page.template, values)
        if !query.isEmpty {
            filled +=
                "?"
                + query.map { PathTemplate.escapeQuery($0.name) + "=" + PathTemplate.escapeQuery($0.value) }
                .joined(separator: "&")
        }
        if let fragment { filled += "#" + fragment }
        return filled
    }

    public var description: String { path }

    /// The same link with a query parameter added (nil or empty: left out).
    public func adding(_ name: String, _ value: String?) -> SiteURL {
        guard let value, !value.isEmpty else { return self }
        var copy = self
        copy.query.append(Pair(name: name, value: value))
        return copy
    }

    /// The same link with every pair of `query` added, in order (empty values left out): a page's
    /// filters carried into its next-page, export and saved-view links.
    func adding(_ query: QueryParameters) -> SiteURL {
        query.pairs.reduce(self) { $0.adding($1.name, $1.value) }
    }

    /// The same link to a place on the page.
    public func at(_ fragment: String) -> SiteURL {
        var copy = self
        copy.fragment = fragment
        return copy
    }

    /// A home page's address as the layout, lists and redirects write it, with a trailing slash
    /// (`/t/acme/`, `/staff/`); the router reads it as the page itself.
    var homePath: String { path + "/" }

    /// The link for an e-mail or anything read outside a browser tab on Purser: on the public address.
    public func absolute(on publicURL: String) -> String { publicURL + path }

    /// Templates and JSON see the path.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(path)
    }

    /// How many values the template takes (the constructors' test reads it).
    var valueCount: Int { values.count }
}

extension SiteURL {
    // A signed-in person's own pages
    static func accountTokenRevoke(_ id: UUID) -> SiteURL { SiteURL(.accountTokenRevoke, id.postgresText) }
    static func accountSessionEnd(_ id: UUID) -> SiteURL { SiteURL(.accountSessionEnd, id.postgresText) }
    static func link(_ token: String) -> SiteURL { SiteURL(.link, token) }
    /// The sign-in page, coming back to `back` afterwards.
    static func signIn(back: String?) -> SiteURL { SitePage.signIn.url.adding("back", back) }
    /// The second-factor step of signing in, coming back to `back` afterwards.
    static func signInTwoFactor(back: String?) -> SiteURL { SitePage.signInTwoFactor.url.adding("back", back) }

    // A tenant's pages
    static func tenant(_ slug: String) -> SiteURL { SiteURL(.tenant, slug) }
    static func members(_ slug: String) -> SiteURL { SiteURL(.members, slug) }
    static func memberRole(_ slug: String, user: UUID) -> SiteURL { SiteURL(.memberRole, slug, user.postgresText) }
    static func memberDeactivate(_ slug: String, user: UUID) -> SiteURL { SiteURL(.memberDeactivate, slug, user.postgresText) }
    static func notifications(_ slug: String) -> SiteURL { SiteURL(.notifications, slug) }
    static func channels(_ slug: String) -> SiteURL { SiteURL(.channels, slug) }
    static func channelTest(_ slug: String, id: UUID) -> SiteURL { SiteURL(.channelTest, slug, id.postgresText) }
    static func channelDelete(_ slug: String, id: UUID) -> SiteURL { SiteURL(.channelDelete, slug, id.postgresText) }
    static func audit(_ slug: String) -> SiteURL { SiteURL(.audit, slug) }
    static func auditCSV(_ slug: String) -> SiteURL { SiteURL(.auditCSV, slug) }
    static func requests(_ slug: String) -> SiteURL { SiteURL(.requests, slug) }
    static func requestNew(_ slug: String) -> SiteURL { SiteURL(.requestNew, slug) }
    static func request(_ slug: String, number: String) -> SiteURL { SiteURL(.request, slug, number) }
    static func requestComments(_ slug: String, number: String) -> SiteURL { SiteURL(.requestComments, slug, number) }
    static func requestUpdate(_ slug: String, number: String) -> SiteURL { SiteURL(.requestUpdate, slug, number) }
    static func requestWatch(_ slug: String, number: String) -> SiteURL { SiteURL(.requestWatch, slug, number) }
    static func requestAttachments(_ slug: String, number: String) -> SiteURL { SiteURL(.requestAttachments, slug, number) }
    static func requestAttachment(_ slug: String, number: String, id: UUID) -> SiteURL {
        SiteURL(.requestAttachment, slug, number, id.postgresText)
    }
    static func slaPolicy(_ slug: String) -> SiteURL { SiteURL(.slaPolicy, slug) }
    static func slaReport(_ slug: String) -> SiteURL { SiteURL(.slaReport, slug) }
    static func slaReportCSV(_ slug: String) -> SiteURL { SiteURL(.slaReportCSV, slug) }
    static func models(_ slug: String) -> SiteURL { SiteURL(.models, slug) }
    static func deployments(_ slug: String) -> SiteURL { SiteURL(.deployments, slug) }
    static func deploymentNew(_ slug: String) -> SiteURL { SiteURL(.deploymentNew, slug) }
    static func deployment(_ slug: String, id: UUID) -> SiteURL { SiteURL(.deployment, slug, id.postgresText) }
    static func deploymentApproval(_ slug: String, id: UUID) -> SiteURL { SiteURL(.deploymentApproval, slug, id.postgresText) }
    static func deploymentAction(_ slug: String, id: UUID) -> SiteURL { SiteURL(.deploymentAction, slug, id.postgresText) }
    static func deploymentPolicies(_ slug: String) -> SiteURL { SiteURL(.deploymentPolicies, slug) }
    static func access(_ slug: String) -> SiteURL { SiteURL(.access, slug) }
    static func accessRequest(_ slug: String, id: UUID) -> SiteURL { SiteURL(.accessRequest, slug, id.postgresText) }
    static func accessDecide(_ slug: String, id: UUID) -> SiteURL { SiteURL(.accessDecide, slug, id.postgresText) }
    static func accessWithdraw(_ slug: String, id: UUID) -> SiteURL { SiteURL(.accessWithdraw, slug, id.postgresText) }
    static func accessRevoke(_ slug: String, id: UUID) -> SiteURL { SiteURL(.accessRevoke, slug, id.postgresText) }
    static func accessCertificate(_ slug: String, id: UUID) -> SiteURL { SiteURL(.accessCertificate, slug, id.postgresText) }
    static func accessPolicies(_ slug: String) -> SiteURL { SiteURL(.accessPolicies, slug) }
    static func costs(_ slug: String) -> SiteURL { SiteURL(.costs, slug) }
    static func costsCSV(_ slug: String) -> SiteURL { SiteURL(.costsCSV, slug) }
    static func budgets(_ slug: String) -> SiteURL { SiteURL(.budgets, slug) }
    static func budget(_ slug: String, id: UUID) -> SiteURL { SiteURL(.budget, slug, id.postgresText) }
    static func budgetDelete(_ slug: String, id: UUID) -> SiteURL { SiteURL(.budgetDelete, slug, id.postgresText) }
    static func costReviews(_ slug: String) -> SiteURL { SiteURL(.costReviews, slug) }
    static func costReview(_ slug: String, month: String) -> SiteURL { SiteURL(.costReview, slug, month) }
    static func hosts(_ slug: String) -> SiteURL { SiteURL(.hosts, slug) }
    static func endpoints(_ slug: String) -> SiteURL { SiteURL(.endpoints, slug) }
    static func endpoint(_ slug: String, id: UUID) -> SiteURL { SiteURL(.endpoint, slug, id.postgresText) }
    static func uptimeReport(_ slug: String) -> SiteURL { SiteURL(.uptimeReport, slug) }
    static func uptimeReportCSV(_ slug: String) -> SiteURL { SiteURL(.uptimeReportCSV, slug) }
    static func weeklyReports(_ slug: String) -> SiteURL { SiteURL(.weeklyReports, slug) }
    static func weeklyReport(_ slug: String, id: UUID) -> SiteURL { SiteURL(.weeklyReport, slug, id.postgresText) }
    static func weeklyReportCSV(_ slug: String, id: UUID) -> SiteURL { SiteURL(.weeklyReportCSV, slug, id.postgresText) }
    static func tenantStatus(_ slug: String) -> SiteURL { SiteURL(.tenantStatus, slug) }
    static func publicStatus(_ token: String) -> SiteURL { SiteURL(.publicStatus, token) }
    static func costsUpload(_ slug: String) -> SiteURL { SiteURL(.costsUpload, slug) }
    static func incidents(_ slug: String) -> SiteURL { SiteURL(.incidents, slug) }
    static func incident(_ slug: String, id: UUID) -> SiteURL { SiteURL(.incident, slug, id.postgresText) }
    static func incidentAcknowledge(_ slug: String, id: UUID) -> SiteURL { SiteURL(.incidentAcknowledge, slug, id.postgresText) }
    static func incidentUpdate(_ slug: String, id: UUID) -> SiteURL { SiteURL(.incidentUpdate, slug, id.postgresText) }
    static func incidentComments(_ slug: String, id: UUID) -> SiteURL { SiteURL(.incidentComments, slug, id.postgresText) }
    static func incidentPostmortem(_ slug: String, id: UUID) -> SiteURL { SiteURL(.incidentPostmortem, slug, id.postgresText) }
    static func incidentActions(_ slug: String, id: UUID) -> SiteURL { SiteURL(.incidentActions, slug, id.postgresText) }
    static func runbooks(_ slug: String) -> SiteURL { SiteURL(.runbooks, slug) }
    static func escalationPolicy(_ slug: String) -> SiteURL { SiteURL(.escalationPolicy, slug) }

    // Provider staff
    static func staffTenantStatus(_ slug: String) -> SiteURL { SiteURL(.staffTenantStatus, slug) }
    static func staffTenantTimeZone(_ slug: String) -> SiteURL { SiteURL(.staffTenantTimeZone, slug) }
    static func staffJobRetry(_ id: Int64) -> SiteURL { SiteURL(.staffJobRetry, String(id)) }
    static func staffJobCancel(_ id: Int64) -> SiteURL { SiteURL(.staffJobCancel, String(id)) }

    // Development only
    static func devMailMessage(_ id: Int) -> SiteURL { SiteURL(.devMailMessage, String(id)) }
    static func devMailHTML(_ id: Int) -> SiteURL { SiteURL(.devMailHTML, String(id)) }
}

/// An API route's template; `path(_:)` fills it for `Location` headers and links in answers.
public enum APIPath: String, CaseIterable, Sendable {
    case me = "/api/v1/me"
    case tokens = "/api/v1/tokens"
    case token = "/api/v1/tokens/{id}"
    case requests = "/api/v1/requests"
    case request = "/api/v1/requests/{id}"
    case requestComments = "/api/v1/requests/{id}/comments"
    case requestAttachments = "/api/v1/requests/{id}/attachments"
    case requestAttachment = "/api/v1/requests/{id}/attachments/{attachment}"
    case deliveries = "/api/v1/notifications/deliveries"
    case slaReport = "/api/v1/reports/sla"
    case models = "/api/v1/models"
    case model = "/api/v1/models/{id}"
    case modelVersions = "/api/v1/models/{id}/versions"
    case catalogueModels = "/api/v1/catalogue/models"
    case deployments = "/api/v1/deployments"
    case deployment = "/api/v1/deployments/{id}"
    case deploymentApprovals = "/api/v1/deployments/{id}/approvals"
    case deploymentPause = "/api/v1/deployments/{id}/pause"
    case deploymentResume = "/api/v1/deployments/{id}/resume"
    case deploymentAbort = "/api/v1/deployments/{id}/abort"
    case deploymentPromote = "/api/v1/deployments/{id}/promote"
    case deploymentRollback = "/api/v1/deployments/{id}/rollback"
    case accessPolicies = "/api/v1/access/policies"
    case accessPolicy = "/api/v1/access/policies/{id}"
    case accessRequests = "/api/v1/access/requests"
    case accessRequest = "/api/v1/access/requests/{id}"
    case accessRequestApprovals = "/api/v1/access/requests/{id}/approvals"
    case accessRequestWithdraw = "/api/v1/access/requests/{id}/withdraw"
    case accessGrants = "/api/v1/access/grants"
    case accessGrant = "/api/v1/access/grants/{id}"
    case accessGrantRevoke = "/api/v1/access/grants/{id}/revoke"
    case accessGrantCertificate = "/api/v1/access/grants/{id}/certificate"
    case costReport = "/api/v1/reports/costs"
    case budgets = "/api/v1/budgets"
    case budget = "/api/v1/budgets/{id}"
    case budgetStatus = "/api/v1/budgets/{id}/status"
    case hosts = "/api/v1/hosts"
    case host = "/api/v1/hosts/{id}"
    case hostCertificate = "/api/v1/hosts/{id}/host-certificate"
    case usage = "/api/v1/usage"
    case probeTargets = "/api/v1/probe-targets"
    case probeTarget = "/api/v1/probe-targets/{id}"
    case maintenanceWindows = "/api/v1/maintenance-windows"
    case maintenanceWindow = "/api/v1/maintenance-windows/{id}"
    case uptimeReport = "/api/v1/reports/uptime"
    case incidents = "/api/v1/incidents"
    case incident = "/api/v1/incidents/{id}"
    case incidentAcknowledge = "/api/v1/incidents/{id}/acknowledge"
    case incidentTimeline = "/api/v1/incidents/{id}/timeline"
    case incidentPostmortem = "/api/v1/incidents/{id}/postmortem"
    case alertmanager = "/api/v1/integrations/alertmanager"
    case runbooks = "/api/v1/runbooks"
    case runbook = "/api/v1/runbooks/{id}"
    case escalationPolicies = "/api/v1/escalation-policies"
    case weeklyReports = "/api/v1/reports/weekly"
    case weeklyReport = "/api/v1/reports/weekly/{id}"
    case prices = "/api/v1/prices"
    case negotiatedPrices = "/api/v1/prices/negotiated"
    case priceMarkups = "/api/v1/prices/markups"

    public var template: String { rawValue }

    /// The path with the template's `{…}` segments filled in order.
    public func path(_ values: String...) -> String { PathTemplate.fill(template, values) }
}

/// Filling `{…}` segments, and escaping what goes into them.
enum PathTemplate {
    /// The template's segments in braces, in order.
    static func names(_ template: String) -> [String] {
        template.split(separator: "/").compactMap { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
        }
    }

    static func fill(_ template: String, _ values: [String]) -> String {
        var remaining = values[...]
        let segments = template.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard segment.hasPrefix("{"), segment.hasSuffix("}"), let value = remaining.popFirst() else { return String(segment) }
            return escapeSegment(value)
        }
        return segments.joined(separator: "/")
    }

    // ASCII only: `CharacterSet.alphanumerics` would let letters from other scripts through unescaped.
    private static let unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    private static let segmentCharacters = CharacterSet(charactersIn: unreserved)
    private static let queryCharacters = CharacterSet(charactersIn: unreserved + "/:,")

    static func escapeSegment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: segmentCharacters) ?? ""
    }

    static func escapeQuery(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: queryCharacters) ?? ""
    }
}
