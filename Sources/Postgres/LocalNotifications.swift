// Notifications this connection's own work sent, for the node that did the work. LISTEN hears them
// too, but later (after the commit reaches the listener's socket); a node that must act before it
// answers — forget a cached session it just ended — takes them from the connection instead, when the
// pool gets it back. Two sources: `notify` called from Swift, and, from SQL (a trigger), a NOTICE
// raised with SQLSTATE `PN001`, the channel as its message and the payload as its detail:
//
//     RAISE NOTICE USING ERRCODE = 'PN001', MESSAGE = 'channel', DETAIL = payload;
//
// Work rolled back takes its notifications with it.
import CPostgres

final class LocalNotifications {
    static let sqlState = "PN001"
    /// A statement that touches many rows raises many; past this, the rest are dropped and their
    /// channels named in `overflowed`, so the receiver knows it missed some there.
    static let limit = 10_000

    /// In the order first sent; a repeat is kept once, as NOTIFY sends a transaction's repeats once
    /// (ending a person's ten sessions raises ten notices for one person).
    private(set) var pending: [Notification] = []
    private var seen: Set<Notification> = []
    private(set) var overflowed: Set<String> = []

    func append(_ notification: Notification) {
        guard !seen.contains(notification) else { return }
        if pending.count >= Self.limit { overflowed.insert(notification.channel); return }
        pending.append(notification)
        seen.insert(notification)
    }

    /// Drops what was added after the first `count` (a rolled-back transaction's).
    func truncate(to count: Int) {
        guard pending.count > count else { return }
        for dropped in pending[count...] { seen.remove(dropped) }
        pending.removeSubrange(count...)
    }

    func take() -> (notifications: [Notification], overflowed: Set<String>) {
        defer { pending.removeAll(); seen.removeAll(); overflowed.removeAll() }
        return (pending, overflowed)
    }

    /// Installs the receiver of the server's notices on `handle`: those with our SQLSTATE are kept,
    /// the rest ("relation already exists, skipping") are not errors and go nowhere.
    func receive(on handle: OpaquePointer) {
        PQsetNoticeReceiver(
            handle,
            { context, result in
                guard let context, let result,
                    let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))), String(cString: state) == LocalNotifications.sqlState,
                    let channel = PQresultErrorField(result, Int32(UInt8(ascii: "M")))
                else { return }
                let payload = PQresultErrorField(result, Int32(UInt8(ascii: "D"))).map { String(cString: $0) } ?? ""
                Unmanaged<LocalNotifications>.fromOpaque(context).takeUnretainedValue()
                    .append(Notification(channel: String(cString: channel), payload: payload))
            }, Unmanaged.passUnretained(self).toOpaque())
    }
}
