// `purser admin verify-audit` and `checkpoint-audit`: the audit log's integrity, from the shell.
// Both connect as DATABASE_URL's owner, who sees every chain (row-level security does not apply).
import ArgumentParser
import Foundation
import Postgres
import Purser

struct VerifyAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-audit",
        abstract: "Check every audit chain's hashes and signed checkpoints; exit 1 naming the first broken row.",
        discussion: """
            Rows after a chain's newest checkpoint may wait PURSER_AUDIT_CHECKPOINT_MAX_AGE_HOURS (default 3) \
            for the next one. With --against, the database is also checked against a file written by \
            `purser admin export-checkpoints`.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: "Check only this tenant's chain (its slug), or `provider` for events without a tenant.")
    var tenant: String?

    @Option(help: "A file written by `purser admin export-checkpoints` whose checkpoints the database must still hold.")
    var against: String?

    func run() throws {
        let settings = try Startup.configuration(options, requireDatabase: true)
        let exported = try against.map { path in
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                FileHandle.standardError.write(Data("purser: cannot read \(path): \(error.localizedDescription)\n".utf8))
                throw ExitCode(2)
            }
        }
        let (connection, keyring) = try AuditAccess.open(options)
        let chains = try AuditAccess.chains(tenant, connection)
        // The newest checkpoint set is read once, for every chain.
        let freshness = try CheckpointFreshness(
            maxAge: TimeInterval(settings.auditCheckpointMaxAgeHours) * 3600,
            now: AdminSetup.clock.now, keyring: keyring, in: connection)
        var broken = false
        for chain in chains {
            // One snapshot for the whole chain: events written meanwhile are not half seen.
            let verdict = try connection.transaction(isolation: .repeatableRead) {
                try AuditLog.verify(chain.name, keyring: keyring, freshness: freshness, in: $0)
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
        // The sets, and the exported copy, in one snapshot of every chain and checkpoint.
        let (sets, comparison) = try connection.transaction(isolation: .repeatableRead) { tx in
            (try AuditCheckpointSets.verify(keyring: keyring, in: tx), try exported.map { try AuditCheckpointExport.compare($0, in: tx) })
        }
        if try report(sets.problems, connection) {
            broken = true
        } else if let newest = sets.newest {
            print("Checkpoint sets: intact (\(sets.sets) signed, the newest at \(RFC3339.string(newest))).")
        }
        if let comparison, let against {
            if try report(comparison.problems, connection) {
                broken = true
            } else {
                print("Against \(against): the database holds all \(comparison.checked) exported checkpoints and sets.")
            }
        }
        if broken { throw ExitCode(1) }
    }

    /// Prints each problem under its chain's label (those of other chains left out with --tenant);
    /// true when any was printed.
    private func report(_ problems: [AuditProblem], _ connection: Connection) throws -> Bool {
        var printed = false
        for problem in problems {
            let label = try problem.chain.map { try AuditAccess.label($0, connection) } ?? "checkpoint sets"
            if let tenant, problem.chain != nil, label != tenant { continue }
            print("\(label): BROKEN: \(problem.reason)")
            printed = true
        }
        return printed
    }
}

struct CheckpointAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint-audit",
        abstract: "Sign the head of every audit chain that moved, and the set of chains, with the master key.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        let (connection, keyring) = try AuditAccess.open(options)
        let run = try connection.transaction { try AuditCheckpoints.take(keyring: keyring, at: AdminSetup.clock.now, in: $0) }
        let signed = Dictionary(
            try connection.query(
                """
                SELECT DISTINCT ON (chain) chain, sequence FROM audit_checkpoints ORDER BY chain, number DESC
                """
            ).map { (try $0.require(0, as: String.self), try $0.require(1, as: Int64.self)) }
        ) { first, _ in first }
        for chain in try AuditAccess.chains(nil, connection) {
            print("\(chain.label): signed at row \(signed[chain.name] ?? 0)")
        }
        print("Signed checkpoint set \(run.set) (\(run.taken.count) new checkpoints).")
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
        return (try Connection(url: configuration.directDatabaseURL!), keyring)
    }

    /// The chains to look at, labelled by tenant slug.
    static func chains(_ tenant: String?, _ connection: Connection) throws -> [Chain] {
        let rows = try connection.query(
            """
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

    /// A chain's label even when its row is gone: the slug of the tenant it is named after.
    static func label(_ chain: String, _ connection: Connection) throws -> String {
        if chain == AuditLog.providerChain { return chain }
        return try connection.query("SELECT slug FROM tenants WHERE id::text = $1", [chain]).first?.require(0, as: String.self) ?? chain
    }
}
