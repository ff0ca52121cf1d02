// Maintenance from the shell: audit retention (purge-audit, set-audit-retention), password reset links,
// and re-sealing secrets after a master key rotation.
import ArgumentParser
import Foundation
import Postgres
import Purser

struct PurgeAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge-audit",
        abstract: "Remove audit events older than each tenant's retention; the rest of each chain stays verifiable.")

    @OptionGroup var options: CommonOptions

    @Option(help: "Purge only this tenant's chain (its slug), or `provider`.")
    var tenant: String?

    func run() throws {
        let (connection, keyring) = try AuditAccess.open(options)
        for chain in try AuditAccess.chains(tenant, connection) {
            let days = try connection.query(
                """
                SELECT coalesce((SELECT audit_retention_days FROM tenants t JOIN audit_chains c ON c.tenant_id = t.id
                                 WHERE c.chain = $1), 2557)
                """, [chain.name])[0].require(0, as: Int.self)
            let removed = try connection.transaction {
                try AuditLog.purge(chain.name, olderThanDays: days, keyring: keyring, now: AdminSetup.clock.now, in: $0)
            }
            print("\(chain.label): kept \(days) days, removed \(removed) events")
        }
    }
}

/// `purser admin set-audit-retention --tenant acme --days 3650`.
struct SetAuditRetention: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-audit-retention", abstract: "Set how many days a tenant's audit events are kept (30–36600).")

    @OptionGroup var options: CommonOptions
    @Option var tenant: String
    @Option var days: Int

    func run() throws {
        guard (30...36600).contains(days) else { throw ArgumentParser.ValidationError("--days takes 30 to 36600") }
        let database = try AdminSetup.database(options)
        guard let id = try TenantStore(database: database, clock: AdminSetup.clock).id(slug: tenant) else {
            throw ArgumentParser.ValidationError("there is no tenant '\(tenant)'")
        }
        try database.inTenant(id) { tx in
            let before = try tx.query("SELECT audit_retention_days FROM tenants WHERE id = $1 FOR UPDATE", [id])[0]
                .require(0, as: Int.self)
            try tx.query("UPDATE tenants SET audit_retention_days = $2, version = version + 1 WHERE id = $1", [id, days])
            try AuditLog.record(
                AuditEvent(
                    tenant: id, actorKind: .system, actorID: nil, action: "tenant.audit_retention_change", targetType: "tenant",
                    targetID: id.postgresText, before: try JSONText(encoding: ["days": String(before)]),
                    after: try JSONText(encoding: ["days": String(days)]), at: AdminSetup.clock.now), in: tx)
        }
        print("\(tenant): audit events are kept \(days) days")
    }
}

/// `purser admin reset-link --email …`: a one-time password reset link, printed.
struct ResetLink: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-link", abstract: "Print a one-time link (valid one hour) with which a person sets a new password.")

    @OptionGroup var options: CommonOptions
    @Option var email: String

    func run() throws {
        let configuration = try Startup.configuration(options, requireDatabase: true)
        let database = try AdminSetup.database(options)
        let link = try AdminSetup.reporting {
            try ResetLinks.issue(email: email, actor: .system, database: database, at: AdminSetup.clock.now)
        }
        let base = configuration.effectivePublicURL
        print(link.absolute(on: base.hasSuffix("/") ? String(base.dropLast()) : base))
    }
}

/// `purser admin rotate-master-key`: re-seals every sealed secret under the keyring's first key,
/// so the old keys can then be dropped from PURSER_MASTER_KEY.
struct RotateMasterKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-master-key",
        abstract: "Re-encrypt every sealed secret and re-sign audit checkpoints under the first key of PURSER_MASTER_KEY.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        let (connection, keyring) = try AuditAccess.open(options)
        let (sealed, signed) = try connection.transaction { tx in
            (
                try MasterKeyRotation.reseal(keyring: keyring, at: AdminSetup.clock.now, in: tx),
                try MasterKeyRotation.resignAudit(keyring: keyring, in: tx)
            )
        }
        print("Re-sealed \(sealed) secret(s) and re-signed \(signed) audit signature(s) under key \(keyring.keys[0].id).")
    }
}
