// The notices this node's own work sent, handed to the subscribers the listener feeds as soon as the
// pool gets the connection back: after the commit, before the handler's answer goes out. Otherwise
// a person who signs out everywhere, or loses a role, could have their next click on this node served
// from its memory before its own notice came round through LISTEN. Other nodes hear it by LISTEN.
import class HTTPServer.Locked
import Postgres

final class LocalNoticeRelay: Sendable {
    private let subscriptions = Locked<[NoticeListener.Subscription]>([])
    /// Notices handed on so far (what a test can count: LISTEN brings the same changes, later).
    let delivered = Locked(0)

    func add(_ more: [NoticeListener.Subscription]) {
        subscriptions.withLock { $0 += more }
    }

    func deliver(_ notifications: [Notification], overflowed: Set<String>) {
        let subscriptions = subscriptions.withLock { $0 }
        delivered.withLock { $0 += notifications.count + overflowed.count }
        // Too many to keep (a statement that changed thousands of people): "*", everyone.
        for subscription in subscriptions where overflowed.contains(subscription.channel) { subscription.notice("*") }
        for notification in notifications {
            for subscription in subscriptions where subscription.channel == notification.channel {
                subscription.notice(notification.payload)
            }
        }
    }
}
