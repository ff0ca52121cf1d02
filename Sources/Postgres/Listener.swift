// LISTEN/NOTIFY on a connection of its own: `wait` blocks until a notification arrives or time runs out.
import CPostgres
import Foundation

public struct Notification: Sendable, Hashable {
    public let channel: String
    public let payload: String

    public init(channel: String, payload: String) {
        self.channel = channel
        self.payload = payload
    }
}

public final class Listener: @unchecked Sendable {
    private let url: String
    private let channels: [String]
    private var connection: Connection?

    /// Channel names are identifiers chosen by the program, never by users; they are quoted anyway.
    public init(url: String, channels: [String]) throws {
        self.url = url
        self.channels = channels
        try connect()
    }

    private func connect() throws {
        let connection = try Connection(url: url)
        for channel in channels {
            try connection.execute("LISTEN \"\(channel.replacingOccurrences(of: "\"", with: "\"\""))\"")
        }
        self.connection = connection
    }

    /// Notifications that arrive within `timeout`; empty when none did. Reconnects (and listens
    /// again) when the connection was lost, so a restart of the server costs only what was sent meanwhile.
    public func wait(timeout: Duration) throws -> [Notification] {
        if connection?.isHealthy != true { try connect() }
        guard let connection else { return [] }
        var received = drain(connection)
        if !received.isEmpty { return received }
        var descriptor = pollfd(fd: PQsocket(connection.handle), events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready > 0 {
            guard PQconsumeInput(connection.handle) == 1 else {
                self.connection = nil
                throw connection.connectionError()
            }
            received = drain(connection)
        }
        return received
    }

    private func drain(_ connection: Connection) -> [Notification] {
        var received: [Notification] = []
        while let notice = PQnotifies(connection.handle) {
            received.append(
                Notification(
                    channel: String(cString: notice.pointee.relname),
                    payload: String(cString: notice.pointee.extra)))
            PQfreemem(notice)
        }
        return received
    }
}
