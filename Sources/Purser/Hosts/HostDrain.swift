// Drain and undrain: the host's state changes at once (no new grants or placements see it as
// active), and the hosts.drain job tells the host by running `purser-drain` or `purser-undrain`
// there — commands the host's operator installs to take the runtime out of (or back into) its load
// balancer (docs/access.md). The job retries while the host does not answer.
import Foundation
import Postgres

enum HostDrain {
    static let kind = "hosts.drain"

    enum Action: String, Sendable, Codable {
        case drain, undrain

        /// The command run on the host (also the certificate's force-command).
        var command: String { self == .drain ? "purser-drain" : "purser-undrain" }
    }

    struct Payload: Codable {
        let host: UUID
        let action: Action
    }

    /// Queues telling the host, in the transaction that changed its state.
    static func enqueue(_ tx: Connection, host: UUID, tenant: UUID?, action: Action, at now: Date) throws {
        try JobQueue.enqueue(
            tx, kind: kind, payload: try JSONText(encoding: Payload(host: host, action: action)),
            options: JobOptions(tenant: tenant, runAt: now, maxAttempts: 20, timeout: HostShell.timeout + 10))
    }

    static func register(into handlers: inout JobHandlers, keyring: Keyring) {
        handlers.register(kind) { context in
            let payload = try context.job.decode(Payload.self)
            guard let host = try context.database.pool.withConnection({ try HostStore.find(payload.host, in: $0) }) else { return }
            // A later change of mind wins: an undrain queued after this drain makes this one moot.
            let wanted: GPUHost.State = payload.action == .drain ? .draining : .active
            guard host.state == wanted else { return }
            try context.once("ran") {
                let outcome = try HostShell(database: context.database, keyring: keyring, world: context.world).run(
                    payload.action.command, purpose: payload.action.rawValue, on: host)
                guard outcome.status == 0 else {
                    throw HostCommandFailed(command: payload.action.command, outcome: outcome)
                }
            }
        }
    }
}

struct HostCommandFailed: Error, CustomStringConvertible {
    let command: String
    let outcome: SSHOutcome

    var description: String {
        outcome.timedOut
            ? "\(command): the host did not answer in time"
            : "\(command) exited \(outcome.status): \(outcome.errors.trimmingCharacters(in: .whitespacesAndNewlines).prefix(500))"
    }
}
