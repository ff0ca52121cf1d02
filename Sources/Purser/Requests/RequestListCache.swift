// Answers of GET /api/v1/requests kept in memory per tenant and query, until that tenant's
// requests change. Lists are read far more often than requests change, and building one (a
// transaction, four joins, twenty rows decoded and encoded) costs about twenty times what
// serving the bytes does.
//
// Correctness rests on generations: every tenant has a counter, raised when its requests change —
// at once on this node after its own writes (so a client reads what it just wrote), and on every
// node when PostgreSQL's trigger notifies (`purser_requests_changed`, sent at commit). An answer
// is stored with the generation read *before* its query ran and served only while the tenant is
// still at that generation, so an answer that raced with a change is never served. While the
// listener is not connected nothing is served from memory, and when it (re)connects everything is
// dropped: changes in between went unheard. Another node serves its old answer only for the
// moment between a commit and the arrival of its notice.
import Foundation
import class HTTPServer.Locked

public final class RequestListCache: NoticeSubscriber {
    public struct Generation: Sendable, Equatable {
        let tenant: UInt64
        let epoch: UInt64
    }

    private struct Entry {
        let tenant: UUID
        let generation: Generation
        let body: [UInt8]
    }

    private struct State {
        var listening = false
        /// Raised whenever the listener connects or disconnects; older entries are never served.
        var epoch: UInt64 = 0
        var generations: [UUID: UInt64] = [:]
        var entries: [String: Entry] = [:]
    }

    public static let channel = "purser_requests_changed"

    /// A pseudo-tenant whose generation rises with every tenant's: for answers that span tenants
    /// (the staff queue), and for changes to what the queue offers (groups, saved views).
    public static let everyTenant = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    private let state = Locked(State())
    private let capacity: Int

    /// `capacity` 0 remembers nothing: every answer is built (PURSER_REMEMBER_ANSWERS=off).
    public init(capacity: Int = 10_000) { self.capacity = capacity }

    /// The tenant's generation now; nil while changes cannot be heard (nothing may be cached).
    public func generation(of tenant: UUID) -> Generation? {
        state.withLock { state in
            state.listening ? Generation(tenant: state.generations[tenant] ?? 0, epoch: state.epoch) : nil
        }
    }

    /// The stored answer for `key`, if the tenant has not changed since it was built.
    public func answer(_ key: String, tenant: UUID) -> [UInt8]? {
        state.withLock { state in
            guard state.listening, let entry = state.entries[key], entry.tenant == tenant,
                entry.generation == Generation(tenant: state.generations[tenant] ?? 0, epoch: state.epoch)
            else { return nil }
            return entry.body
        }
    }

    /// Keeps `body`, built from data read at `generation`.
    public func keep(_ body: [UInt8], for key: String, tenant: UUID, generation: Generation) {
        guard capacity > 0 else { return }
        state.withLock { state in
            guard state.listening, generation == Generation(tenant: state.generations[tenant] ?? 0, epoch: state.epoch) else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(tenant: tenant, generation: generation, body: body)
        }
    }

    /// The tenant's requests changed (a write on this node, or a notice from PostgreSQL).
    public func changed(_ tenant: UUID) {
        state.withLock { state in
            state.generations[tenant, default: 0] &+= 1
            if tenant != Self.everyTenant { state.generations[Self.everyTenant, default: 0] &+= 1 }
        }
    }

    /// A notice's payload: the tenant's id (anything else: start clean).
    func heard(_ payload: String) {
        guard let tenant = UUID(uuidString: payload) else { return listening(true) }
        changed(tenant)
    }

    /// The listener connected or lost its connection: changes may have gone unheard, so
    /// everything is dropped, and nothing is served from memory while not listening.
    func listening(_ connected: Bool) {
        state.withLock { state in
            state.listening = connected
            state.epoch &+= 1
            state.entries.removeAll()
        }
    }
}
