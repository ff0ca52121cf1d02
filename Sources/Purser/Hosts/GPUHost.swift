// A GPU host as Purser keeps it: a tenant's own, or the provider's shared pool (tenant nil). The row
// carries everything a stateless node needs to reach it (address, port, the login Purser's commands
// run as, the host's keys) and what the health schedule last read.
import Foundation
import Postgres

public struct GPUHost: Sendable {
    public enum Runtime: String, Sendable, CaseIterable, Codable { case vllm, tgi }
    public enum State: String, Sendable, CaseIterable, Codable { case active, draining, down }

    public struct GPU: Sendable, Codable, Equatable {
        public var model: String
        public var count: Int
        public var memoryMiB: Int

        enum CodingKeys: String, CodingKey {
            case model, count
            case memoryMiB = "memory_mib"
        }
    }

    public let id: UUID
    /// Nil for a host of the shared pool.
    public let tenant: UUID?
    public let tenantSlug: String?
    public var name: String
    public var address: String
    public var sshPort: Int
    public var sshLogin: String
    public var hostKeys: [String]
    public var labels: [String]
    public var gpus: [GPU]
    public var runtime: Runtime
    public var models: [String]
    public var state: State
    public var health: HostHealthReading?
    public var healthAt: Date?
    public var healthError: String?
    public var answeredAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public var etag: String { "\"\(version)\"" }

    /// The principal people get for `login` on this host (SSHPrincipal).
    public func principal(login: String) -> String { SSHPrincipal.forHost(tenantSlug: tenantSlug, hostName: name, login: login) }

    public var destination: SSHDestination {
        SSHDestination(address: address, port: sshPort, login: sshLogin, hostKeys: hostKeys)
    }

    /// The columns `init(row:)` reads, with the tenant's slug.
    static let columns = """
        h.id, h.tenant_id, t.slug, h.name, h.address, h.ssh_port, h.ssh_login, h.host_keys, h.labels, h.gpus::text,
        h.runtime, h.models, h.state, h.health::text, h.health_at, h.health_error, h.answered_at, h.created_at,
        h.updated_at, h.version
        """
    static let from = "gpu_hosts h LEFT JOIN tenants t ON t.id = h.tenant_id"

    init(row: Row) throws {
        id = try row.require(0)
        tenant = try row.decode(1)
        tenantSlug = try row.decode(2)
        name = try row.require(3)
        address = try row.require(4)
        sshPort = try row.require(5)
        sshLogin = try row.require(6)
        hostKeys = try row.require(7)
        labels = try row.require(8)
        gpus = try JSONDecoder().decode([GPU].self, from: Data(try row.require(9, as: String.self).utf8))
        runtime = Runtime(rawValue: try row.require(10)) ?? .vllm
        models = try row.require(11)
        state = State(rawValue: try row.require(12)) ?? .down
        health = try row.decode(13, as: String.self).flatMap { try? JSONDecoder().decode(HostHealthReading.self, from: Data($0.utf8)) }
        healthAt = try row.decode(14)
        healthError = try row.decode(15)
        answeredAt = try row.decode(16)
        createdAt = try row.require(17)
        updatedAt = try row.require(18)
        version = try row.require(19)
    }
}
