// Asking for access, deciding, withdrawing: each change in one transaction of the tenant, audited
// there, with its notices and jobs. A refusal by the rules is audited too, in a transaction of its
// own (the change's rolls back). The approval that completes an access request makes its grant in
// the same transaction, so the certificate is signable and the role held as soon as it commits.
import Foundation
import OpenSSHFormats
import Postgres

/// What someone asks for (the page's form and the API's body say the same).
public struct NewAccessRequest: Sendable, Decodable {
    public var policyID: UUID
    public var reason: String
    public var durationSeconds: Int
    /// RFC 3339; nil: from the approval.
    public var start: String?
    /// SSH: the host's name in the tenant's inventory.
    public var host: String?
    /// SSH: the public key the certificate is for (an authorized_keys line).
    public var publicKey: String?
    /// The service request that justifies it: its id or number (ACME-42).
    public var linkedRequest: String?
    /// An extension of this grant (asked and approved again).
    public var extendsGrantID: UUID?
    /// Break-glass: granted at once, reviewed afterwards.
    public var breakGlass: Bool?
    /// SSH: the certificates' options, narrower than the policy's (nil: as the policy says).
    public var permitPortForwarding: Bool?
    public var sourceAddresses: [String]?
    public var forceCommand: String?
    /// The one-time key of the page form it came from (`FormSubmissions`); not part of the API body.
    public var formKey: String? = nil

    enum CodingKeys: String, CodingKey {
        case policyID = "policy_id", reason, durationSeconds = "duration_seconds", start, host, publicKey = "public_key"
        case linkedRequest = "linked_request", extendsGrantID = "extends_grant_id", breakGlass = "break_glass"
        case permitPortForwarding = "permit_port_forwarding", sourceAddresses = "source_addresses", forceCommand = "force_command"
    }

    public static let fields: Set<String> = [
        "policy_id", "reason", "duration_seconds", "start", "host", "public_key", "linked_request", "extends_grant_id", "break_glass",
        "permit_port_forwarding", "source_addresses", "force_command",
    ]

    public var certificateOptions: CertificateOptions {
        CertificateOptions(permitPortForwarding: permitPortForwarding, sourceAddresses: sourceAddresses, forceCommand: forceCommand)
    }

    public init(
        policyID: UUID, reason: String, durationSeconds: Int, start: String? = nil, host: String? = nil, publicKey: String? = nil,
        linkedRequest: String? = nil, extendsGrantID: UUID? = nil, breakGlass: Bool? = nil,
        options: CertificateOptions = CertificateOptions(), formKey: String? = nil
    ) {
        self.formKey = formKey
        self.policyID = policyID
        self.reason = reason
        self.durationSeconds = durationSeconds
        self.start = start
        self.host = host
        self.publicKey = publicKey
        self.linkedRequest = linkedRequest
        self.extendsGrantID = extendsGrantID
        self.breakGlass = breakGlass
        self.permitPortForwarding = options.permitPortForwarding
        self.sourceAddresses = options.sourceAddresses
        self.forceCommand = options.forceCommand
    }
}

public struct AccessStore: Sendable {
    public static let lapseKind = "access.lapse"
    public static let expireKind = "access.expire"

    let database: Database
    /// The time of day: asking, deciding and the grant's window are stamped with one reading of it.
    let clock: any WallClock
    let notices: AccessNotices
    /// Files the review request of a break-glass.
    let requests: RequestStore

    public init(database: Database, clock: any WallClock, notices: AccessNotices, requests: RequestStore) {
        self.database = database
        self.clock = clock
        self.notices = notices
        self.requests = requests
    }

    // MARK: Policies

    /// The tenant's policies by name; archived ones only when asked.
    public func policies(tenant: UUID, archived: Bool = false) throws -> [AccessPolicy] {
        try database.inTenant(tenant) { tx in
            try tx.query(
                "SELECT \(AccessPolicy.columns) FROM access_policies WHERE tenant_id = $1 AND ($2 OR archived_at IS NULL) ORDER BY name, id",
                [tenant, archived]
            ).map(AccessPolicy.decode)
        }
    }

    /// Writes `policy` (new or changed), audited. With `principal` (a person's change), naming the
    /// provider's pool is refused unless they manage providers (AccessPolicyStore).
    public func save(_ policy: AccessPolicy, tenant: UUID, actor: AuditActor, principal: Principal? = nil) throws {
        let problems = policy.problems()
        if !problems.isEmpty { throw ValidationError(problems) }
        try database.inTenant(tenant) { tx in
            let now = clock.now
            if let principal {
                let before = try tx.query(
                    "SELECT \(AccessPolicy.columns) FROM access_policies WHERE tenant_id = $2 AND id = $1 FOR UPDATE", [policy.id, tenant]
                )
                .first.map(AccessPolicy.decode)
                if before?.archivedAt != nil { throw AccessPolicyArchived(name: policy.name) }
                try Self.checkPoolWrite(before: before, after: policy, principal: principal)
            }
            try AccessPolicy.save(policy, tenant: tenant, at: now, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "access.policy_save", targetType: "access_policy",
                    targetID: policy.id.postgresText,
                    after: try JSONText(encoding: [
                        "name": policy.name, "target": policy.target, "max_seconds": String(policy.maxSeconds),
                        "customer_approvals": String(policy.customerApprovals), "provider_approvals": String(policy.providerApprovals),
                    ]), at: now), in: tx)
        }
    }

    // MARK: Asking

    /// Files an access request under its policy (or, with `break_glass`, grants at once and files
    /// the review request). Refusals are audited and thrown.
    public func ask(_ new: NewAccessRequest, tenant: UUID, principal: Principal, actor: AuditActor) throws -> AccessRequestRecord {
        if new.breakGlass == true { return try breakGlass(new, tenant: tenant, principal: principal, actor: actor) }
        return try audited(tenant: tenant, actor: actor, attempt: "access.request", target: nil) {
            let pool = try poolHost(new, tenant: tenant)
            return try database.inTenant(tenant) { tx in
                let now = clock.now
                // The same page form sent again: the access request the first sending filed.
                if let key = new.formKey,
                    let earlier = try FormSubmissions.claim(tx, tenant: tenant, user: principal.user, key: key, at: now),
                    let id = UUID(uuidString: earlier), let record = try Self.request(id, in: tx)
                {
                    return record
                }
                let policy = try Self.policy(new.policyID, in: tx)
                let asker = try Self.person(principal, in: tx)
                let link = try Self.link(new.linkedRequest, tenant: tenant, in: tx)
                let start = try Self.start(new.start)
                let calendar = try RequestSLA.policy(tx, tenant: tenant).calendar
                try AccessRules.checkAsk(
                    policy: policy, asker: asker, durationSeconds: new.durationSeconds, start: start, reason: new.reason,
                    link: link?.rules, now: now, calendar: calendar, extending: new.extendsGrantID != nil)
                let ssh = try Self.ssh(new, policy: policy, tenant: tenant, pool: pool, in: tx)
                if let extended = new.extendsGrantID {
                    try AccessExtension.checkAsk(
                        extended, policy: policy, hostID: ssh?.hostID, durationSeconds: new.durationSeconds, user: principal.user,
                        businessHours: policy.businessHoursOnly ? calendar : nil, in: tx, at: now)
                }
                let id = UUID.v7(at: now)
                let lapseAt = now.addingTimeInterval(TimeInterval(policy.lapseSeconds))
                let job = try JobQueue.enqueue(
                    tx, kind: Self.lapseKind, payload: try JSONText(encoding: ["request": id.postgresText]),
                    options: JobOptions(tenant: tenant, runAt: lapseAt, maxAttempts: 20, timeout: 30))
                try tx.query(
                    """
                    INSERT INTO access_requests (tenant_id, id, policy_id, requester_id, kind, role, host_id, host_name, principal, public_key,
                        reason, duration_seconds, requested_start, linked_request_id, extends_grant_id, lapse_at, lapse_job_id, created_at,
                        updated_at, permit_port_forwarding, source_addresses, force_command)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, $19, $20, $21)
                    """,
                    [
                        tenant, id, policy.id, principal.user, policy.kind.rawValue, policy.role, ssh?.hostID, ssh?.hostName,
                        ssh?.principal, ssh?.key, new.reason.trimmingCharacters(in: .whitespacesAndNewlines), new.durationSeconds,
                        start, link?.id, new.extendsGrantID, lapseAt, job, now, new.permitPortForwarding, new.sourceAddresses,
                        new.forceCommand,
                    ])
                let record = try Self.request(id, in: tx)!
                if let key = new.formKey {
                    try FormSubmissions.record(tx, tenant: tenant, user: principal.user, key: key, target: id.postgresText)
                }
                let needs = AccessRules.needs(policy: policy, requesterIsStaff: asker.staffRole != nil)
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor, action: "access.request", targetType: "access_request", targetID: id.postgresText,
                        reason: record.reason,
                        after: try JSONText(encoding: [
                            "policy": policy.name, "target": record.target, "duration_seconds": String(new.durationSeconds),
                            "customer_approvals": String(needs.customer), "provider_approvals": String(needs.provider),
                        ]), at: now), in: tx)
                try notices.requested(record, tenant: tenant, policy: policy, needs: needs, at: now, in: tx)
                return record
            }
        }
    }

    /// An immediate self-grant for a designated role, with its review request filed for someone
    /// else to resolve. Refused while the person's last break-glass is unreviewed.
    func breakGlass(_ new: NewAccessRequest, tenant: UUID, principal: Principal, actor: AuditActor) throws -> AccessRequestRecord {
        try audited(tenant: tenant, actor: actor, attempt: "access.break_glass", target: nil) {
            // The rules first, so that a refused break-glass files no review request.
            let pool = try poolHost(new, tenant: tenant)
            let (policy, name) = try database.inTenant(tenant) { tx in
                let policy = try Self.policy(new.policyID, in: tx)
                try AccessRules.checkBreakGlass(
                    policy: policy, asker: try Self.person(principal, in: tx), durationSeconds: new.durationSeconds, reason: new.reason,
                    hasUnreviewedBreakGlass: try Self.hasUnreviewedBreakGlass(principal.user, in: tx))
                _ = try Self.ssh(new, policy: policy, tenant: tenant, pool: pool, in: tx)
                return (policy, try tx.query("SELECT name FROM users WHERE id = $1", [principal.user])[0].require(0, as: String.self))
            }
            let review = try requests.create(
                NewRequest(
                    subject: String("Break-glass review: \(name), \(policy.target)".prefix(200)),
                    description: "\(name) broke glass under the policy \(policy.name) for \(AccessRules.words(new.durationSeconds)).\n\n"
                        + "Reason given: \(new.reason)\n\nSomeone other than \(name) reviews what was done and resolves this request.",
                    type: RequestType.access.rawValue, priority: RequestPriority.p2.rawValue),
                tenant: tenant, requester: principal.user, actor: actor)
            return try database.inTenant(tenant) { tx in
                let now = clock.now
                // One break-glass per person at a time: their concurrent attempts wait here and see this one.
                try tx.query("SELECT pg_advisory_xact_lock(hashtext('access-break-glass:' || $1::text))", [principal.user])
                let asker = try Self.person(principal, in: tx)
                try AccessRules.checkBreakGlass(
                    policy: policy, asker: asker, durationSeconds: new.durationSeconds, reason: new.reason,
                    hasUnreviewedBreakGlass: try Self.hasUnreviewedBreakGlass(principal.user, in: tx))
                let ssh = try Self.ssh(new, policy: policy, tenant: tenant, pool: pool, in: tx)
                let id = UUID.v7(at: now)
                try tx.query(
                    """
                    INSERT INTO access_requests (tenant_id, id, policy_id, requester_id, kind, role, host_id, host_name, principal, public_key,
                        reason, duration_seconds, break_glass, state, lapse_at, decided_at, created_at, updated_at, permit_port_forwarding,
                        source_addresses, force_command)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, true, 'approved', $13, $13, $13, $13, $14, $15, $16)
                    """,
                    [
                        tenant, id, policy.id, principal.user, policy.kind.rawValue, policy.role, ssh?.hostID, ssh?.hostName,
                        ssh?.principal, ssh?.key, new.reason.trimmingCharacters(in: .whitespacesAndNewlines), new.durationSeconds, now,
                        new.permitPortForwarding, new.sourceAddresses, new.forceCommand,
                    ])
                let record = try Self.request(id, in: tx)!
                let start = AccessRules.window(approvedAt: now, requestedStart: nil, durationSeconds: 0).start
                let grant = try AccessGrants.make(record, tenant: tenant, start: start, review: review.id, in: tx, at: now)
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor, action: "access.break_glass", targetType: "access_request", targetID: id.postgresText,
                        reason: record.reason,
                        after: try JSONText(encoding: [
                            "policy": policy.name, "target": record.target, "grant": grant.postgresText, "review_request": review.number,
                            "duration_seconds": String(new.durationSeconds),
                        ]), at: now), in: tx)
                try notices.brokeGlass(record, tenant: tenant, review: review.number, at: now, in: tx)
                return record
            }
        }
    }

    // MARK: Deciding

    /// Approves or denies (with a reason) as `principal`; the last approval owed makes the grant.
    @discardableResult
    public func decide(
        _ id: UUID, tenant: UUID, approve: Bool, reason: String, principal: Principal, actor: AuditActor
    ) throws -> AccessRequestDetail {
        try audited(tenant: tenant, actor: actor, attempt: approve ? "access.approve" : "access.deny", target: id) {
            try database.inTenant(tenant) { tx in
                let now = clock.now
                guard let record = try Self.request(id, in: tx, lock: true) else { throw NotFound() }
                let policy = try Self.policy(record.policyID, in: tx)
                let requesterIsStaff = try tx.query("SELECT staff_role IS NOT NULL FROM users WHERE id = $1", [record.requesterID])[0]
                    .require(0, as: Bool.self)
                let needs = AccessRules.needs(policy: policy, requesterIsStaff: requesterIsStaff)
                let decisions = try AccessApprovalRecord.load(request: id, in: tx).map(\.decision)
                let (side, outcome) = try AccessRules.decide(
                    state: record.state, requester: record.requesterID, approver: try Self.person(principal, in: tx), approve: approve,
                    reason: reason, policy: policy, needs: needs, decisions: decisions)
                let trimmed = String(reason.trimmingCharacters(in: .whitespacesAndNewlines).prefix(2000))
                try tx.query(
                    """
                    INSERT INTO access_approvals (tenant_id, request_id, approver_id, side, decision, reason, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """, [tenant, id, principal.user, side.rawValue, approve ? "approve" : "deny", trimmed, now])
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor, action: approve ? "access.approve" : "access.deny", targetType: "access_request",
                        targetID: id.postgresText, reason: trimmed.isEmpty ? nil : trimmed,
                        after: try JSONText(encoding: ["side": side.rawValue]), at: now), in: tx)
                switch outcome {
                case .pending: break
                case .denied:
                    try close(record, state: .denied, at: now, in: tx)
                    try notices.told(
                        "access.denied", subject: "Access denied: \(record.target)", text: trimmed, request: id,
                        person: record.requesterID, tenant: tenant, at: now, in: tx)
                case .approved:
                    try close(record, state: .approved, at: now, in: tx)
                    // An extension moves the end of the grant it extends (AccessExtension).
                    if let extended = record.extendsGrantID {
                        let moved = try AccessExtension.extend(
                            record, grant: extended, tenant: tenant, maxSeconds: policy.maxSeconds,
                            businessHours: policy.businessHoursOnly ? try RequestSLA.policy(tx, tenant: tenant).calendar : nil,
                            actor: actor,
                            in: tx, at: now)
                        try notices.told(
                            "access.granted", subject: "Access extended: \(record.target)",
                            text: "Now until \(RFC3339.string(moved.endsAt)).", request: id, person: record.requesterID, tenant: tenant,
                            at: now, in: tx)
                        break
                    }
                    let start = AccessRules.window(approvedAt: now, requestedStart: record.requestedStart, durationSeconds: 0).start
                    // The window as it opens now must be within business hours too (it was checked from
                    // the moment of asking): the approval waits for them instead.
                    if policy.businessHoursOnly,
                        let problem = AccessBusinessHours.problem(
                            start: start, seconds: record.durationSeconds, calendar: try RequestSLA.policy(tx, tenant: tenant).calendar)
                    {
                        throw AccessRefused("outside_business_hours", "Approving now: " + problem.detail + ".", refusal: .conflict)
                    }
                    let grant = try AccessGrants.make(record, tenant: tenant, start: start, review: nil, in: tx, at: now)
                    try AuditLog.record(
                        AuditEvent(
                            tenant: tenant, actor: actor, action: "access.grant", targetType: "access_grant", targetID: grant.postgresText,
                            after: try JSONText(encoding: [
                                "request": id.postgresText, "starts_at": RFC3339.string(start),
                                "ends_at": RFC3339.string(start.addingTimeInterval(TimeInterval(record.durationSeconds))),
                            ]), at: now), in: tx)
                    try notices.told(
                        "access.granted", subject: "Access granted: \(record.target)",
                        text: "From \(RFC3339.string(start)) for \(AccessRules.words(record.durationSeconds)).", request: id,
                        person: record.requesterID, tenant: tenant, at: now, in: tx)
                }
                return try Self.detail(id, tenant: tenant, in: tx)!
            }
        }
    }

    /// The requester takes back their pending access request.
    public func withdraw(_ id: UUID, tenant: UUID, principal: Principal, actor: AuditActor) throws {
        try audited(tenant: tenant, actor: actor, attempt: "access.withdraw", target: id) {
            try database.inTenant(tenant) { tx in
                let now = clock.now
                guard let record = try Self.request(id, in: tx, lock: true) else { throw NotFound() }
                guard record.requesterID == principal.user else {
                    throw AccessRefused("not_yours", "Only the person who asked withdraws an access request.")
                }
                guard record.state == .pending else {
                    throw AccessRefused(
                        "decided", "The access request is \(record.state.rawValue); only a pending one is withdrawn.", refusal: .conflict)
                }
                try close(record, state: .withdrawn, at: now, in: tx)
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor, action: "access.withdraw", targetType: "access_request", targetID: id.postgresText,
                        at: now), in: tx)
            }
        }
    }

    /// Ends a pending access request's wait: its lapse job goes.
    func close(_ record: AccessRequestRecord, state: AccessRequestState, at now: Date, in tx: Connection) throws {
        let job = try tx.query(
            """
            UPDATE access_requests SET state = $2, decided_at = $3, updated_at = $3, version = version + 1 WHERE id = $1
            RETURNING lapse_job_id
            """, [record.id, state.rawValue, now]
        ).first?.decode(0, as: Int64.self)
        if let job { try JobQueue.cancel(tx, id: job) }
    }

    // MARK: Reading

    public func detail(_ id: UUID, tenant: UUID) throws -> AccessRequestDetail? {
        try database.inTenant(tenant) { tx in try Self.detail(id, tenant: tenant, in: tx) }
    }

    static func detail(_ id: UUID, tenant: UUID, in tx: Connection) throws -> AccessRequestDetail? {
        guard let record = try request(id, in: tx) else { return nil }
        let policy = try policy(record.policyID, in: tx)
        let staff = try tx.query("SELECT staff_role IS NOT NULL FROM users WHERE id = $1", [record.requesterID])[0].require(
            0, as: Bool.self)
        return AccessRequestDetail(
            request: record, approvals: try AccessApprovalRecord.load(request: id, in: tx),
            // An approved extension's grant is the one it extended (AccessExtension).
            grant: try tx.query(
                "SELECT \(AccessGrantRecord.columns) FROM \(AccessGrantRecord.joins) WHERE g.request_id = $1 OR (g.id = $2 AND $3)",
                [id, record.extendsGrantID, record.state == .approved]
            ).first.map(AccessGrantRecord.decode),
            needs: AccessRules.needs(policy: policy, requesterIsStaff: staff), policy: policy)
    }

    static func request(_ id: UUID, in tx: Connection, lock: Bool = false) throws -> AccessRequestRecord? {
        try tx.query(
            "SELECT \(AccessRequestRecord.columns) FROM \(AccessRequestRecord.joins) WHERE r.id = $1" + (lock ? " FOR UPDATE OF r" : ""),
            [id]
        ).first.map(AccessRequestRecord.decode)
    }

    static func policy(_ id: UUID, in tx: Connection) throws -> AccessPolicy {
        guard let row = try tx.query("SELECT \(AccessPolicy.columns) FROM access_policies WHERE id = $1", [id]).first else {
            throw ValidationError(field: "policy_id", "no such access policy in this tenant")
        }
        return try AccessPolicy.decode(row)
    }

    /// The principal as the rules see them, with whether they have a second factor.
    static func person(_ principal: Principal, in tx: Connection) throws -> AccessPerson {
        let totp = try tx.query("SELECT totp_enabled_at IS NOT NULL FROM users WHERE id = $1", [principal.user]).first?.require(
            0, as: Bool.self)
        return AccessPerson(
            user: principal.user, customerRole: principal.tenantRole, staffRole: principal.staffRole, hasSecondFactor: totp ?? false)
    }

    static func hasUnreviewedBreakGlass(_ user: UUID, in tx: Connection) throws -> Bool {
        !(try tx.query("SELECT 1 FROM access_grants WHERE user_id = $1 AND break_glass AND reviewed_at IS NULL LIMIT 1", [user]).isEmpty)
    }

    static func start(_ text: String?) throws -> Date? {
        guard let text, !text.isEmpty else { return nil }
        guard let date = RFC3339.date(text) else { throw ValidationError(field: "start", "give the start as an RFC 3339 time") }
        return date
    }

    /// The service request named by id or number, with what the rules need.
    static func link(_ reference: String?, tenant: UUID, in tx: Connection) throws -> (id: UUID, rules: LinkedRequest)? {
        guard let reference = reference?.trimmingCharacters(in: .whitespaces), !reference.isEmpty else { return nil }
        let row: Row?
        if let id = UUID(uuidString: reference) {
            row = try tx.query("SELECT id, type, state FROM requests WHERE tenant_id = $1 AND id = $2", [tenant, id]).first
        } else if let (key, number) = RequestNumbers.parse(reference) {
            row = try tx.query(
                """
                SELECT r.id, r.type, r.state FROM requests r JOIN tenants t ON t.id = r.tenant_id
                WHERE r.tenant_id = $1 AND r.number = $2 AND t.key = $3
                """, [tenant, number, key]
            ).first
        } else {
            row = nil
        }
        guard let row else { throw ValidationError(field: "linked_request", "no such service request in this tenant") }
        return (try row.require(0), LinkedRequest(type: try row.require(1), state: try row.require(2)))
    }

    /// SSH: the tenant's host carrying the policy's label, its principal and the public key (if
    /// given, validated: OpenSSH, no DSA, RSA of 3072 bits or more). Nil for a role policy.
    static func ssh(
        _ new: NewAccessRequest, policy: AccessPolicy, tenant: UUID, pool: AccessPoolHosts.Host?, in tx: Connection
    ) throws -> (hostID: UUID, hostName: String, principal: String, key: String?)? {
        let problems = new.certificateOptions.problems(within: policy)
        if !problems.isEmpty { throw ValidationError(problems) }
        guard policy.kind == .ssh, !policy.hostLabels.isEmpty, let login = policy.sshLogin else { return nil }
        let labels = policy.hostLabels.joined(separator: " or ")
        guard let name = new.host?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
            throw ValidationError(field: "host", "name the host (one labelled \(labels))")
        }
        let slug = try tx.query("SELECT slug FROM tenants WHERE id = $1", [tenant])[0].require(0, as: String.self)
        let found: (id: UUID, name: String, principal: String)
        switch policy.hostSource {
        case .pool:
            // Found beforehand in the pool (AccessPoolHosts); its labels checked again against the policy read here.
            guard let pool, pool.name == name.lowercased(), !Set(pool.labels).isDisjoint(with: policy.hostLabels) else {
                throw ValidationError(field: "host", "no host \(name) labelled \(labels) in the provider's pool")
            }
            found = (pool.id, pool.name, SSHPrincipal.forPoolHost(tenantSlug: slug, hostName: pool.name, login: login))
        case .tenant:
            // The tenant's own hosts only (row-level security hides the shared pool from a tenant).
            guard
                let host = try tx.query(
                    "SELECT id, name FROM gpu_hosts WHERE tenant_id = $1 AND name = $2 AND labels && $3::text[]",
                    [tenant, name.lowercased(), policy.hostLabels]
                ).first
            else { throw ValidationError(field: "host", "no host \(name) labelled \(labels) in this tenant") }
            let hostName = try host.require(1, as: String.self)
            found = (try host.require(0), hostName, SSHPrincipal.forHost(tenantSlug: slug, hostName: hostName, login: login))
        }
        var key: String?
        if let line = new.publicKey?.trimmingCharacters(in: .whitespacesAndNewlines), !line.isEmpty {
            do {
                key = try OpenSSHPublicKey(parsing: line).line
            } catch let error as OpenSSHKeyError {
                throw ValidationError(field: "public_key", error.description)
            }
        }
        return (found.id, found.name, found.principal, key)
    }

    /// Runs `body`; a refusal of the rules (or a bad value) is audited in a transaction of its own,
    /// then thrown.
    func audited<T>(tenant: UUID, actor: AuditActor, attempt: String, target: UUID?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AccessRefused {
            try? recordRefusal(tenant: tenant, actor: actor, attempt: attempt, target: target, rule: error.rule, detail: error.detail ?? "")
            throw error
        } catch let error as ValidationError {
            try? recordRefusal(
                tenant: tenant, actor: actor, attempt: attempt, target: target, rule: "invalid",
                detail: error.fieldErrors.map { "\($0.field): \($0.detail)" }.joined(separator: "; "))
            throw error
        }
    }

    private func recordRefusal(tenant: UUID, actor: AuditActor, attempt: String, target: UUID?, rule: String, detail: String) throws {
        try database.inTenant(tenant) { tx in
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "access.refused", targetType: target == nil ? nil : "access_request",
                    targetID: target?.postgresText, reason: String(detail.prefix(1000)),
                    after: try JSONText(encoding: ["attempt": attempt, "rule": rule]), at: clock.now), in: tx)
        }
    }
}
