// `purser admin verify-audit` and `checkpoint-audit`: the audit log's integrity, from the shell.
// Both connect as DATABASE_URL's owner, who sees every chain (row-level security does not apply).
import ArgumentParser
import Foundation
import Postgres
import Purser

struct VerifyAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-audit",
        abstract: "Check every audit chain's hashes and signed checkpoints; exit 1 naming the first broken row.")

    @OptionGroup var options: CommonOptions

    @Option(help: "Check only this tenant's chain (its slug), or `provider` for events without a tenant.")
    var tenant: String?

    func run() throws {
        let (connection, keyring) = try AuditAccess.open(options)
        let chains = try AuditAccess.chains(tenant, connection)
        var broken = false
        for chain in chains {
            // One snapshot for the whole chain: events written meanwhile are not half seen.
            let verdict = try connection.transaction(isolation: .repeatableRead) {
                try AuditLog.verify(chain.name, keyring: keyring, in: $0)
            }
            switch verdict {
            case .intact(let events, let checkpoints):
                print("\(chain.label): intact (\(events) events, \(checkpoints) signed checkpoints)")
            case .broken(let sequence, let reason):
                print("\(chain.label): BROKEN at row \(sequence): \(reason)")
                broken = true
            }
        }
        if chains.isEmpty { print("No audit events yet.") }
        if broken { throw ExitCode(1) }
    }
}

struct CheckpointAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint-audit",
        abstract: "Sign the head of every audit chain with the master key.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        let (connection, keyring) = try AuditAccess.open(options)
        for chain in try AuditAccess.chains(nil, connection) {
            let sequence = try connection.transaction { try AuditLog.checkpoint(chain.name, keyring: keyring, in: $0) }
            print("\(chain.label): signed at row \(sequence)")
        }
    }
}

enum AuditAccess {
    struct Chain {
        let name: String
        let label: String
    }

    static func open(_ options: CommonOptions) throws -> (Connection, Keyring) {
        let configuration = try Startup.configuration(options, requireDatabase: true)
        guard let keyring = configuration.masterKey else {
            FileHandle.standardError.write(Data("purser: PURSER_MASTER_KEY is not set; checkpoints are signed with it\n".utf8))
            throw ExitCode(2)
        }
        return (try Connection(url: configuration.databaseURL!), keyring)
    }

    /// The chains to look at, labelled by tenant slug.
    static func chains(_ tenant: String?, _ connection: Connection) throws -> [Chain] {
        let rows = try connection.query("""
            SELECT c.chain, coalesce(t.slug, 'provider') FROM audit_chains c LEFT JOIN tenants t ON t.id = c.tenant_id
            WHERE $1::text IS NULL OR coalesce(t.slug, 'provider') = $1 ORDER BY 2
            """, [tenant])
        let chains = try rows.map { Chain(name: try $0.require(0, as: String.self), label: try $0.require(1, as: String.self)) }
        if let tenant, chains.isEmpty {
            let known = try connection.query("SELECT 1 FROM tenants WHERE slug = $1", [tenant])
            if known.isEmpty && tenant != "provider" {
                FileHandle.standardError.write(Data("purser: there is no tenant '\(tenant)'\n".utf8))
                throw ExitCode(2)
            }
        }
        return chains
    }
}
