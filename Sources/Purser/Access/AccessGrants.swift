// Grants: made by the approval that completes an access request (or by break-glass), ended early
// by revocation (the person, an approver or an admin; a closed linked service request), recorded
// as expired by the access.expire job. What is enforced is the window: certificates carry it as
// valid_before and elevation compares it with the clock, so a late job changes only the record.
// An SSH grant's early end goes into the KRL in the same transaction.
import Foundation
import OpenSSHFormats
import Postgres

public struct AccessGrants: Sendable {
    let database: Database
    let clock: any WallClock
    let notices: AccessNotices
    let keyring: Keyring

    public init(database: Database, clock: any WallClock, notices: AccessNotices, keyring: Keyring) {
        self.database = database
        self.clock = clock
        self.notices = notices
        self.keyring = keyring
    }

    /// Writes the grant of an approved access request (window from `start`) and its expiry job.
    static func make(_ record: AccessRequestRecord, tenant: UUID, start: Date, review: UUID?, in tx: Connection, at now: Date) throws
        -> UUID
    {
        let id = UUID.v7(at: now)
        let end = start.addingTimeInterval(TimeInterval(record.durationSeconds))
        let job = try JobQueue.enqueue(
            tx, kind: AccessStore.expireKind, payload: try JSONText(encoding: ["grant": id.postgresText]),
            options: JobOptions(tenant: tenant, runAt: end, priority: 10, maxAttempts: 20, timeout: 30))
        try tx.query(
            """
            INSERT INTO access_grants (tenant_id, id, request_id, user_id, kind, role, host_id, host_name, principal, public_key, starts_at,
                ends_at, expire_job_id, linked_request_id, break_glass, review_request_id, created_at, permit_port_forwarding,
                source_addresses, force_command)
            SELECT tenant_id, $2, id, requester_id, kind, role, host_id, host_name, principal, public_key, $3, $4, $5, linked_request_id,
                   break_glass, $6, $7, permit_port_forwarding, source_addresses, force_command
            FROM access_requests WHERE tenant_id = $1 AND id = $8
            """, [tenant, id, start, end, job, review, now, record.id])
        return id
    }

    public func grant(_ id: UUID, tenant: UUID) throws -> AccessGrantRecord? {
        try database.inTenant(tenant) { tx in try Self.grant(id, in: tx) }
    }

    static func grant(_ id: UUID, in tx: Connection, lock: Bool = false) throws -> AccessGrantRecord? {
        try tx.query(
            "SELECT \(AccessGrantRecord.columns) FROM \(AccessGrantRecord.joins) WHERE g.id = $1" + (lock ? " FOR UPDATE OF g" : ""), [id]
        ).first.map(AccessGrantRecord.decode)
    }

    // MARK: Ending early

    /// Revokes a live grant: its holder, an approver (access.approve, access.approve_provider) or an
    /// admin (tenant.settings.manage) may. An SSH grant's certificates go into the KRL at once.
    public func revoke(_ id: UUID, tenant: UUID, reason: String, principal: Principal, actor: AuditActor) throws {
        do {
            try database.inTenant(tenant) { tx in
                let now = clock.now
                guard let grant = try Self.grant(id, in: tx, lock: true) else { throw NotFound() }
                let mayRevoke =
                    grant.userID == principal.user || principal.can(.accessApprove) || principal.can(.accessApproveProvider)
                    || principal.can(.tenantSettingsManage)
                guard mayRevoke else {
                    throw AccessRefused("not_allowed", "Only the grant's holder, an approver or an admin revokes a grant.")
                }
                guard grant.state(at: now) == .active else {
                    throw AccessRefused(
                        "ended", "The grant has already \(grant.state(at: now) == .revoked ? "been revoked" : "expired").",
                        refusal: .conflict)
                }
                let why = reason.trimmingCharacters(in: .whitespacesAndNewlines)
                try Self.end(grant, state: .revoked, by: principal.user, reason: why.isEmpty ? "revoked" : why, at: now, in: tx)
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor, action: "access.revoke", targetType: "access_grant", targetID: id.postgresText,
                        reason: why.isEmpty ? nil : String(why.prefix(2000)),
                        after: try JSONText(encoding: ["request": grant.requestID.postgresText]), at: now), in: tx)
                try notices.told(
                    "access.revoked", subject: "Access revoked: \(grant.principal ?? grant.role ?? "")",
                    text: why.isEmpty ? "The grant was ended early." : String(why.prefix(2000)), request: grant.requestID,
                    person: grant.userID, tenant: tenant, at: now, in: tx)
            }
        } catch let error as AccessRefused {
            _ = try? database.inTenant(tenant) { tx in
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor, action: "access.refused", targetType: "access_grant", targetID: id.postgresText,
                        reason: error.detail, after: try JSONText(encoding: ["attempt": "access.revoke", "rule": error.rule]),
                        at: clock.now), in: tx)
            }
            throw error
        }
    }

    /// Ends `grant` now (revoked) or records its end (expired): its expiry job goes, an SSH grant's
    /// certificates are revoked in the KRL (an expired one's have ended by themselves).
    static func end(
        _ grant: AccessGrantRecord, state: AccessGrantState, by person: UUID?, reason: String, at now: Date, in tx: Connection
    ) throws {
        try tx.query(
            """
            UPDATE access_grants SET state = $2, revoked_at = CASE WHEN $2 = 'revoked' THEN $3::timestamptz END,
                   revoked_by = $4, end_reason = $5
            WHERE tenant_id = $6 AND id = $1
            """, [grant.id, state.rawValue, now, person, String(reason.prefix(2000)), grant.tenant])
        if state == .revoked {
            if let job = grant.expireJob { try JobQueue.cancel(tx, id: job) }
            if grant.kind == .ssh { try SSHRevocations.revoke(tx, keyID: grant.id.postgresText, serial: nil, reason: reason, at: now) }
        }
    }

    /// Ends the live grants a closed service request justified, and records the review of a
    /// break-glass whose review request someone else resolved or closed. Called by the request's
    /// change in its own transaction (RequestStore.update), before the state is written: the
    /// break-glass holder resolving their own review is refused there.
    public static func requestMoving(
        _ request: UUID, tenant: UUID, from: String, to: String, by person: UUID, at now: Date, in tx: Connection
    ) throws {
        guard from != to else { return }
        if to == RequestState.resolved.rawValue || to == RequestState.closed.rawValue {
            let reviewed = try tx.query(
                "SELECT user_id FROM access_grants WHERE tenant_id = $1 AND review_request_id = $2 AND reviewed_at IS NULL",
                [tenant, request]
            ).map { try $0.require(0, as: UUID.self) }
            if reviewed.contains(person) {
                throw ValidationError(field: "state", "a break-glass review is resolved by someone other than the person who broke glass")
            }
            if !reviewed.isEmpty {
                try tx.query(
                    "UPDATE access_grants SET reviewed_at = $3 WHERE tenant_id = $1 AND review_request_id = $2 AND reviewed_at IS NULL",
                    [tenant, request, now])
            }
        }
        // Closed ends the grants it justified; resolved does not (it may be reopened within the window).
        guard to == RequestState.closed.rawValue else { return }
        let live = try tx.query(
            """
            SELECT \(AccessGrantRecord.columns) FROM \(AccessGrantRecord.joins)
            WHERE g.tenant_id = $1 AND g.linked_request_id = $2 AND g.state = 'active' AND g.ends_at > $3 FOR UPDATE OF g
            """, [tenant, request, now]
        ).map(AccessGrantRecord.decode)
        for grant in live {
            try end(grant, state: .revoked, by: nil, reason: "the linked service request was closed", at: now, in: tx)
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: .system, action: "access.revoke", targetType: "access_grant", targetID: grant.id.postgresText,
                    reason: "the linked service request was closed",
                    after: try JSONText(encoding: ["request": grant.requestID.postgresText, "linked_request": request.postgresText]),
                    at: now), in: tx)
        }
    }

    // MARK: Certificates

    /// Signs an OpenSSH user certificate for the holder of a live SSH grant: for `publicKey` (or the
    /// key given when asking), principal the grant's, window the grant's (valid_before its end).
    /// Refused, and audited, for someone else's grant, one not yet started, expired or revoked.
    public func certificate(_ id: UUID, tenant: UUID, publicKey: String?, principal: Principal, actor: AuditActor) throws -> String {
        do {
            return try database.inTenant(tenant) { tx in
                let now = clock.now
                // Only the holder's own: anyone else's grant is not found.
                guard let grant = try Self.grant(id, in: tx, lock: true), grant.userID == principal.user else { throw NotFound() }
                guard grant.kind == .ssh, let login = grant.principal else {
                    throw AccessRefused("not_ssh", "This grant is a portal role; it has no certificate.", refusal: .conflict)
                }
                switch grant.state(at: now) {
                case .expired: throw AccessRefused("expired", "The grant has expired; ask for access again.", refusal: .conflict)
                case .revoked: throw AccessRefused("revoked", "The grant was revoked; ask for access again.", refusal: .conflict)
                case .active: break
                }
                guard grant.startsAt <= now else {
                    throw AccessRefused("not_started", "The grant starts at \(RFC3339.string(grant.startsAt)).", refusal: .conflict)
                }
                let line = (publicKey?.trimmingCharacters(in: .whitespacesAndNewlines)).flatMap { $0.isEmpty ? nil : $0 } ?? grant.publicKey
                guard let line else { throw ValidationError(field: "public_key", "give the public key the certificate is for") }
                let key: OpenSSHPublicKey
                do {
                    key = try OpenSSHPublicKey(parsing: line)
                } catch let error as OpenSSHKeyError {
                    throw ValidationError(field: "public_key", error.description)
                }
                // The options of the policy the grant was asked under, as it reads now (a policy
                // narrowed after approval narrows the certificates signed from then on), met with
                // what the grant's access request narrowed of them (AccessCertificateOptions).
                let policy = try tx.query(
                    """
                    SELECT \(AccessPolicy.columns.split(separator: ",").map { "p." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                        .joined(separator: ", "))
                    FROM access_requests r JOIN access_policies p ON p.tenant_id = r.tenant_id AND p.id = r.policy_id
                    WHERE r.tenant_id = $2 AND r.id = $1
                    """, [grant.requestID, grant.tenant]
                ).first.map(AccessPolicy.decode)
                guard let policy else { throw NotFound() }
                let options = try grant.options.signed(under: policy)
                let (forwarding, sources, command) = (options.permitPortForwarding, options.sourceAddresses, options.forceCommand)
                let serial = try SSHCertificateAuthority.nextSerial(tx)
                let certificate = try SSHCertificateAuthority.load(database: database, keyring: keyring).sign(
                    publicKey: key, keyID: grant.id.postgresText, serial: serial, principals: [login], validAfter: grant.startsAt,
                    validBefore: grant.endsAt, permitPortForwarding: forwarding, sourceAddress: sources, forceCommand: command)
                try tx.query(
                    "UPDATE access_grants SET certificate_serials = certificate_serials || $2::bigint WHERE tenant_id = $3 AND id = $1",
                    [id, Int64(bitPattern: serial), grant.tenant])
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor, action: "access.certificate", targetType: "access_grant", targetID: id.postgresText,
                        after: try JSONText(encoding: [
                            "serial": String(serial), "principal": login, "fingerprint": key.fingerprint,
                            "valid_before": RFC3339.string(grant.endsAt),
                        ]), at: now), in: tx)
                return certificate
            }
        } catch let error as AccessRefused {
            _ = try? database.inTenant(tenant) { tx in
                try AuditLog.record(
                    AuditEvent(
                        tenant: tenant, actor: actor, action: "access.refused", targetType: "access_grant", targetID: id.postgresText,
                        reason: error.detail, after: try JSONText(encoding: ["attempt": "access.certificate", "rule": error.rule]),
                        at: clock.now), in: tx)
            }
            throw error
        }
    }
}
