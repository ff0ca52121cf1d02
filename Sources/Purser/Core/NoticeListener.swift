// One connection that LISTENs for the notices this node acts on (token revocations, changed
// requests) and hands each to its subscriber, on a thread of its own, since waiting on the socket
// blocks. Subscribers hear when the connection is made and when it is lost: whatever they cache may
// have changed unheard in between.
import Foundation
import class HTTPServer.Locked
import Logging
import Postgres

final class NoticeListener: Sendable {
    struct Subscription: Sendable {
        let channel: String
        let notice: @Sendable (String) -> Void
        let connected: @Sendable (Bool) -> Void
    }

    private let url: String
    private let subscriptions: [Subscription]
    private let logger: Logger
    private let running = Locked(false)

    init(url: String, subscriptions: [Subscription], logger: Logger) {
        self.url = url
        self.subscriptions = subscriptions
        self.logger = logger
    }

    func start() {
        running.withLock { $0 = true }
        let thread = Thread { [self] in listen() }
        thread.name = "notices"
        thread.start()
    }

    func stop() {
        running.withLock { $0 = false }
        for subscription in subscriptions { subscription.connected(false) }
    }

    private func listen() {
        var listener: Listener?
        while running.withLock({ $0 }) {
            do {
                if listener == nil {
                    listener = try Listener(url: url, channels: subscriptions.map(\.channel))
                    for subscription in subscriptions { subscription.connected(true) }
                }
                for notice in try listener!.wait(timeout: .milliseconds(500)) {
                    for subscription in subscriptions where subscription.channel == notice.channel { subscription.notice(notice.payload) }
                }
            } catch {
                logger.warning("the notice listener lost its connection", metadata: ["error": .string("\(error)")])
                listener = nil
                for subscription in subscriptions { subscription.connected(false) }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }
}

/// Something kept in memory that a channel's notices change: told each notice, and told when the
/// listener connects or loses its connection (changes may have gone unheard in between).
protocol NoticeSubscriber: AnyObject, Sendable {
    static var channel: String { get }
    func heard(_ payload: String)
    func listening(_ connected: Bool)
}

extension NoticeSubscriber {
    var subscription: NoticeListener.Subscription {
        NoticeListener.Subscription(channel: Self.channel, notice: { [self] in heard($0) }, connected: { [self] in listening($0) })
    }
}
