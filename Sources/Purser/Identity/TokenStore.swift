// API tokens: created (shown once), authenticated on every API request without a query per request
// (a cache whose entries every node drops at once on revocation, through NOTIFY), last use recorded
// at most once a minute per token, revoked.
import Crypto
import Foundation
import class HTTPServer.Locked
import struct HTTPServer.WouldBlock
import Postgres

/// Who a valid token speaks for. A class: it is handed along every API request, and one
/// reference costs one retain where a struct of strings and arrays costs a dozen. Immutable; a
/// reloaded token is a new object, so identity (`===`) tells whether anything may have changed.
public final class TokenIdentity: Sendable {
    public let tokenID: UUID
    public let user: UUID
    public let email: String
    public let name: String
    /// The tenant a customer token is bound to; nil for a staff token.
    public let tenant: UUID?
    public let tenantRole: CustomerRole?
    public let staffRole: StaffRole?
    public let scopes: [Scope]
    public let expiresAt: Date
    /// The rate-limit buckets this token spends from (its own, and its tenant's, with the limits of
    /// the tenant's plan), made once when the token is loaded rather than per request.
    public let buckets: [RateLimiter.Bucket]
    /// The owner's portal roles held for a while through access grants (Access/Elevation.swift).
    public let elevations: [Elevation]

    init(
        tokenID: UUID, user: UUID, email: String, name: String, tenant: UUID?, tenantRole: CustomerRole?,
        staffRole: StaffRole?, scopes: [Scope], expiresAt: Date, buckets: [RateLimiter.Bucket], elevations: [Elevation] = []
    ) {
        self.elevations = elevations
        self.tokenID = tokenID
        self.user = user
        self.email = email
        self.name = name
        self.tenant = tenant
        self.tenantRole = tenantRole
        self.staffRole = staffRole
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.buckets = buckets
    }
}

/// One token as its owner sees it listed (never the secret).
public struct TokenSummary: Sendable {
    public let id: UUID
    public let name: String
    public let tenantName: String?
    public let scopes: [String]
    public let createdAt: Date
    public let expiresAt: Date
    public let lastUsedAt: Date?
    public let revokedAt: Date?
}

/// A missing, malformed, unknown, expired or revoked token (401 with `WWW-Authenticate` at the seam).
public struct Unauthenticated: DomainError {
    public let why: String
    public init(why: String) { self.why = why }
    public var refusal: Refusal { .unauthenticated }
    public var detail: String? { why }
}

/// A valid token without the scope a route needs (403 at the seam), naming the scope.
public struct MissingScope: DomainError, Equatable {
    public let scope: Scope
    /// The token refused, and its tenant: the denial is audited.
    public var tokenID: UUID?
    public var tenant: UUID?

    public init(scope: Scope, tokenID: UUID? = nil, tenant: UUID? = nil) {
        self.scope = scope
        self.tokenID = tokenID
        self.tenant = tenant
    }

    public var refusal: Refusal { .forbidden }
    public var detail: String? { "This token lacks the scope \(scope.rawValue)." }
}

public final class TokenStore: Sendable {
    /// The channel on which every node hears that a token was revoked.
    public static let revocationChannel = "purser_token_revoked"

    let database: Database
    let limiter: RateLimiter
    private struct CacheEntry {
        let identity: TokenIdentity
        let secretHash: [UInt8]
        /// The secret once it matched the stored hash: later requests compare bytes (constant
        /// time) instead of hashing again. Held only in this node's memory, as long as the entry.
        var verifiedSecret: [UInt8]?
        var lastUseRecorded: Date?
        let loadedAt: Date
    }
    /// Revocations arrive by NOTIFY at once; entries are also reloaded after this long, bounding
    /// what a node that missed a notice (while reconnecting) can keep believing.
    static let cacheLifetime: TimeInterval = 300
    /// A staff token belongs to no tenant and so to no plan.
    static let staffRequestsPerMinute = 6000
    private let cache = Locked<[String: CacheEntry]>([:])
    /// The time of day tokens are issued, judged and revoked by.
    let clock: any WallClock

    public init(database: Database, clock: any WallClock, limiter: RateLimiter? = nil) {
        self.database = database
        self.clock = clock
        self.limiter = limiter ?? RateLimiter(database: database, clock: clock)
    }

    /// Creates a token for `user`; returns it once, in full. Audited in the tenant's chain.
    /// A token made by another token names it as `parent`: it expires no later than the parent
    /// (`notAfter`) and is revoked with it.
    public func create(
        user: UUID, tenant: UUID?, name: String, scopes: [Scope], lifetime: TimeInterval, actor: AuditActor,
        parent: UUID? = nil, notAfter: Date? = nil
    ) throws -> (id: UUID, token: String, expiresAt: Date) {
        guard !scopes.isEmpty else { throw ValidationError(field: "scopes", "name at least one scope") }
        guard lifetime > 0, lifetime <= 366 * 86400 else { throw ValidationError(field: "expires", "choose 1 day to 1 year") }
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError(field: "name", "give a name of 1–100 characters, without control characters")
        }
        let secret = APITokenSecret.generate()
        let now = clock.now
        let id = UUID.v7(at: now)
        let expires = min(now.addingTimeInterval(lifetime), notAfter ?? .distantFuture)
        let write = { (tx: Connection) in
            // A token never carries more than its owner, whoever asks for it.
            try TokenOwner.check(user: user, tenant: tenant, scopes: scopes, in: tx)
            try tx.query(
                """
                INSERT INTO api_tokens (id, lookup, secret_hash, user_id, tenant_id, name, scopes, created_at, expires_at, parent_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                """,
                [
                    id, secret.lookup, Bytea(secret.secretHash), user, tenant, name, scopes.map(\.rawValue), now, expires,
                    parent,
                ])
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "token.create", targetType: "api_token", targetID: id.postgresText,
                    after: try JSONText(encoding: ["name": name, "scopes": scopes.map(\.rawValue).joined(separator: " ")]), at: now),
                in: tx)
        }
        if let tenant { try database.inTenant(tenant, write) } else { try database.pool.transaction(write) }
        return (id, secret.text, expires)
    }

    /// Revokes the token (only if `owner` holds it, when given: anyone else's is a 404); every node
    /// drops it from its cache when the transaction commits.
    public func revoke(_ id: UUID, owner: UUID? = nil, binding: Binding = .any, actor: AuditActor) throws {
        guard let row = try database.pool.query("SELECT tenant_id, user_id FROM api_tokens WHERE id = $1", [id]).first,
            try owner == nil || row.require(1, as: UUID.self) == owner,
            binding.admits(try row.decode(0, as: UUID.self))
        else { throw NotFound() }
        let tenant = try row.decode(0, as: UUID.self)
        let now = clock.now
        let write = { (tx: Connection) in
            // The token and every token made from it, however deep.
            let lookups = try tx.query(
                """
                WITH RECURSIVE family AS (
                    SELECT id FROM api_tokens WHERE id = $1
                    UNION SELECT t.id FROM api_tokens t JOIN family f ON t.parent_id = f.id)
                UPDATE api_tokens SET revoked_at = $2 WHERE id IN (SELECT id FROM family) AND revoked_at IS NULL
                RETURNING lookup
                """, [id, now]
            ).map { try $0.require(0, as: String.self) }
            guard !lookups.isEmpty else { return }
            for lookup in lookups { try tx.notify(Self.revocationChannel, payload: lookup) }
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "token.revoke", targetType: "api_token",
                    targetID: id.postgresText,
                    after: try JSONText(encoding: ["tokens_revoked": String(lookups.count)]), at: now),
                in: tx)
        }
        if let tenant { try database.inTenant(tenant, write) } else { try database.pool.transaction(write) }
        forget(lookup: nil, id: id)
    }

    /// Revokes every live token of `user` (only those bound to `tenant` when given) inside `tx`,
    /// stamped `now`; every node drops them when `tx` commits. Returns how many were revoked.
    @discardableResult
    public static func revokeAll(user: UUID, tenant: UUID? = nil, at now: Date, in tx: Connection) throws -> Int {
        let lookups = try tx.query(
            """
            UPDATE api_tokens SET revoked_at = $3
            WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR tenant_id = $2)
            RETURNING lookup
            """, [user, tenant, now]
        ).map { try $0.require(0, as: String.self) }
        for lookup in lookups { try tx.notify(revocationChannel, payload: lookup) }
        return lookups.count
    }

    /// Which tokens a caller may see and revoke: any of the owner's (the account page), or only
    /// those bound as the calling token is (a token sees its own tenant's tokens, or staff tokens).
    public enum Binding: Sendable {
        case any
        case boundTo(UUID?)

        func admits(_ tenant: UUID?) -> Bool {
            if case .boundTo(let bound) = self { return bound == tenant }
            return true
        }
    }

    /// The person's tokens, newest first, revoked and expired ones included.
    public func list(user: UUID, binding: Binding = .any) throws -> [TokenSummary] {
        try database.pool.query(
            """
            SELECT t.id, t.name, tn.name, t.scopes, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, t.tenant_id
            FROM api_tokens t LEFT JOIN tenants tn ON tn.id = t.tenant_id
            WHERE t.user_id = $1 ORDER BY t.created_at DESC LIMIT 200
            """, [user]
        ).filter { binding.admits(try $0.decode(8, as: UUID.self)) }.map { row in
            TokenSummary(
                id: try row.require(0), name: try row.require(1), tenantName: try row.decode(2),
                scopes: try row.require(3), createdAt: try row.require(4), expiresAt: try row.require(5),
                lastUsedAt: try row.decode(6), revokedAt: try row.decode(7))
        }
    }

    /// Drops cached entries (called for each revocation notice, from any node).
    public func forget(lookup: String?, id: UUID? = nil) {
        cache.withLock { entries in
            if let lookup { entries[lookup] = nil }
            if let id { entries = entries.filter { $0.value.identity.tokenID != id } }
        }
    }

    /// Drops the cached tokens of `user`, whose roles or grants changed (a visitor notice).
    public func forget(user: UUID) {
        cache.withLock { entries in entries = entries.filter { $0.value.identity.user != user } }
    }

    /// Drops every cached entry (after a gap in hearing revocations).
    public func forgetAll() {
        cache.withLock { $0.removeAll() }
    }

    /// The identity behind a token's text (the API gate takes it from `Authorization: Bearer …`;
    /// session cookies never count). With `mayBlock` false (an I/O thread) a cache miss, a due
    /// last-use write or a refusal to audit throws `WouldBlock`.
    public func authenticate(token text: String, requiring scope: Scope? = nil, mayBlock: Bool = true) throws -> TokenIdentity {
        guard let secret = APITokenSecret(text: text) else {
            throw Unauthenticated(why: "The Authorization header does not hold a Purser token.")
        }
        let identity = try lookUp(secret, mayBlock: mayBlock)
        if let scope, !identity.scopes.contains(scope) {
            guard mayBlock else { throw WouldBlock() }
            throw MissingScope(scope: scope, tokenID: identity.tokenID, tenant: identity.tenant)
        }
        return identity
    }

    /// With `mayBlock` false (an I/O thread) a cache miss or a due last-use write throws `WouldBlock`.
    private func lookUp(_ secret: APITokenSecret, mayBlock: Bool) throws -> TokenIdentity {
        let moment = clock.now
        var entry = cache.withLock { $0[secret.lookup] }
        if let cached = entry, moment.timeIntervalSince(cached.loadedAt) > Self.cacheLifetime { entry = nil }
        if entry == nil {
            guard mayBlock else { throw WouldBlock() }
            entry = try load(secret.lookup)
            if let loaded = entry { cache.withLock { $0[secret.lookup] = loaded } }
        }
        guard let found = entry else { throw Unauthenticated(why: "The token is not valid.") }
        // Constant-time comparisons: timing reveals nothing of a guess.
        let presented = Array(secret.secret.utf8)
        if let verified = found.verifiedSecret, Self.equal(verified, presented) {
            // Seen and verified before.
        } else if Self.equal(found.secretHash, secret.secretHash) {
            cache.withLock { $0[secret.lookup]?.verifiedSecret = presented }
        } else {
            throw Unauthenticated(why: "The token is not valid.")
        }
        guard found.identity.expiresAt > moment else { throw Unauthenticated(why: "The token has expired.") }
        if let last = found.lastUseRecorded, moment.timeIntervalSince(last) < 60 { return found.identity }
        guard mayBlock else { throw WouldBlock() }
        try recordUse(secret.lookup, found, at: moment)
        return found.identity
    }

    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
    }

    private func load(_ lookup: String) throws -> CacheEntry? {
        guard
            let row = try database.pool.query(
                """
                SELECT t.id, t.secret_hash, t.user_id, u.email, u.name, t.tenant_id, u.staff_role, t.scopes, t.expires_at,
                       t.last_used_at, p.api_requests_per_minute, p.tenant_requests_per_minute
                FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN tenants tn ON tn.id = t.tenant_id
                     LEFT JOIN plans p ON p.id = tn.plan_id
                WHERE t.lookup = $1 AND t.revoked_at IS NULL AND u.status = 'active'
                  AND (t.tenant_id IS NULL OR tn.status = 'active')
                """, [lookup]
            ).first
        else { return nil }
        let user = try row.require(2, as: UUID.self)
        let tenant = try row.decode(5, as: UUID.self)
        var tenantRole: CustomerRole?
        if let tenant {
            // A customer token speaks only while its owner is still a member of its tenant.
            let role = try database.inTenant(tenant) { tx in
                try tx.query(
                    "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2 AND status = 'active'",
                    [tenant, user]
                ).first?
                .decode(0, as: String.self)
            }
            guard let role, let parsed = CustomerRole(rawValue: role) else { return nil }
            tenantRole = parsed
        }
        let identity = TokenIdentity(
            tokenID: try row.require(0), user: user, email: try row.require(3), name: try row.require(4), tenant: tenant,
            tenantRole: tenantRole, staffRole: try row.decode(6, as: String.self).flatMap(StaffRole.init(rawValue:)),
            scopes: try row.require(7, as: [String].self).compactMap(Scope.init(rawValue:)), expiresAt: try row.require(8),
            buckets: buckets(
                token: try row.require(0), tenant: tenant, perMinute: try row.decode(10, as: Int.self),
                tenantPerMinute: try row.decode(11, as: Int.self)),
            elevations: try Elevation.load(user: user, at: clock.now, database: database))
        return CacheEntry(
            identity: identity, secretHash: try row.require(1, as: Bytea.self).bytes,
            lastUseRecorded: try row.decode(9, as: Date.self), loadedAt: clock.now)
    }

    private func buckets(token: UUID, tenant: UUID?, perMinute: Int?, tenantPerMinute: Int?) -> [RateLimiter.Bucket] {
        var buckets = [
            limiter.bucket(
                "token:" + token.postgresText, perMinute: perMinute ?? Self.staffRequestsPerMinute,
                what: "token's")
        ]
        if let tenant, let tenantPerMinute {
            buckets.append(limiter.bucket("tenant:" + tenant.postgresText, perMinute: tenantPerMinute, what: "tenant's"))
        }
        return buckets
    }

    /// Writes last_used_at at most once a minute per token, never once per request.
    private func recordUse(_ lookup: String, _ entry: CacheEntry, at moment: Date) throws {
        cache.withLock { $0[lookup]?.lastUseRecorded = moment }
        try database.pool.query("UPDATE api_tokens SET last_used_at = $2 WHERE lookup = $1", [lookup, moment])
    }
}
