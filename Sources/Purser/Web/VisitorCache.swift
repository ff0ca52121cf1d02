// Signed-in visitors kept in memory, by the hash of their session token, so that a page does not
// begin with a query for the session and a transaction for the person's memberships. What a
// visitor is can change only through rows that notify every node at commit (migration 0012): a
// session ended or moved on, the person, their memberships, any tenant. A notice drops the
// person's visitors (or, for a tenant, everyone's); while the listener is not connected nothing is
// kept. A visitor read before a change is never kept after it (a generation, read before the
// query, must still be current when the visitor is stored). Expiry and the idle limit are checked
// here as the database would; the activity stamp is still written once a minute.
import Foundation
import HTTPServer

final class VisitorCache: NoticeSubscriber {
    struct Entry {
        let visitor: Visitor
        let expiresAt: Date
        var lastSeen: Date
    }

    private struct State {
        var listening = false
        var generation: UInt64 = 0
        var entries: [String: Entry] = [:]
    }

    static let channel = "purser_visitors_changed"
    private let state = Locked(State())
    private let capacity: Int

    init(capacity: Int = 50_000) { self.capacity = capacity }

    /// The generation now; nil while changes cannot be heard.
    func generation() -> UInt64? { state.withLock { $0.listening ? $0.generation : nil } }

    func entry(_ tokenHash: String) -> Entry? { state.withLock { $0.listening ? $0.entries[tokenHash] : nil } }

    func keep(_ entry: Entry, for tokenHash: String, generation: UInt64) {
        state.withLock { state in
            guard state.listening, state.generation == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[tokenHash] = entry
        }
    }

    /// The activity stamp was written.
    func touched(_ tokenHash: String, at moment: Date) {
        state.withLock { state in state.entries[tokenHash]?.lastSeen = moment }
    }

    /// A notice: a person's id, or "*" for everyone.
    func heard(_ payload: String) {
        state.withLock { state in
            state.generation &+= 1
            if let user = UUID(uuidString: payload) {
                state.entries = state.entries.filter { $0.value.visitor.user != user }
            } else {
                state.entries.removeAll()
            }
        }
    }

    func listening(_ connected: Bool) {
        state.withLock { state in
            state.listening = connected
            state.generation &+= 1
            state.entries.removeAll()
        }
    }
}
