import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// The audit CSV export reads the database on worker threads, never on libmicrohttpd's I/O
/// threads: while exports wait on the database and their clients read nothing, a new connection
/// to /healthz is still answered.
@Suite struct AuditExportStreamingTests {
    @Test func exportsWaitingOnTheDatabaseDoNotHoldTheIOThreads() throws {
        let app = try TestApp { $0.ioThreads = 2 }
        let people = try People(app)
        let events = 3000
        try app.app.database.inTenant(people.tenant) { tx in
            for index in 0..<events {
                try AuditLog.record(
                    AuditEvent(
                        tenant: people.tenant, actorKind: .system, actorID: nil, action: "request.update",
                        targetType: "request", targetID: "ACME-\(index)",
                        reason: String(repeating: "long enough to fill pages ", count: 4),
                        at: app.app.world.now), in: tx)
            }
        }
        let browser = try people.signedIn(
            "tenant_admin@acme.test", in: app,
            totp: try people.enableSecondFactor("tenant_admin@acme.test", in: app))
        let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        let owner = try app.database.connect()
        let stored = try owner.query("SELECT count(*) FROM audit_events WHERE tenant_id = $1", [people.tenant])[0]
            .require(0, as: Int.self)

        // Every read of the audit log now waits until this transaction ends.
        try owner.query("BEGIN")
        try owner.query("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
        let watcher = try app.database.connect()
        func waiting() throws -> Int {
            try watcher.query(
                """
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                """)[0].require(0, as: Int.self)
        }
        // One export per I/O thread, each started once the one before waits on the lock, so that
        // both I/O threads would hold one if exports were read there.
        var exports: [ExportClient] = []
        for count in 1...2 {
            exports.append(try ExportClient(port: app.app.server.port, path: "/t/acme/audit.csv", cookie: cookie))
            #expect(try waitUntil { try waiting() >= count }, "export \(count) reached the database")
        }

        let health = try RawHTTP.exchange(
            port: app.app.server.port,
            Array("GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".utf8),
            timeout: .seconds(15))
        #expect(health.hasPrefix("HTTP/1.1 200"), "a new connection is answered while exports wait: \(health.prefix(200))")
        #expect(try waiting() >= 2, "the exports were still waiting when /healthz answered")

        try owner.query("COMMIT")
        for export in exports {
            let (head, body) = try export.readToEnd()
            #expect(head.hasPrefix("HTTP/1.1 200"), "\(head)")
            let lines = body.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.count == stored + 1, "every event and the header line arrived")
        }
    }
}

/// A client that sends one request and reads the answer only when told to (a slow reader).
final class ExportClient {
    let socket: Int32

    init(port: Int, path: String, cookie: String) throws {
        socket = try RawHTTP.connect(port: port)
        RawHTTP.send(socket, Array("GET \(path) HTTP/1.1\r\nHost: test\r\nCookie: \(cookie)\r\nConnection: close\r\n\r\n".utf8))
    }

    deinit { close(socket) }

    /// The response's head and its de-chunked body, read until the server closes the connection
    /// (30 s without data ends it too).
    func readToEnd() throws -> (head: String, body: String) {
        let received = RawHTTP.readUntilClosed(socket)
        let separator = Array("\r\n\r\n".utf8)
        guard let end = (0...max(0, received.count - 4)).first(where: { Array(received[$0..<min($0 + 4, received.count)]) == separator })
        else { return (String(decoding: received, as: UTF8.self), "") }
        var body = [UInt8]()
        var index = end + 4
        // Chunked transfer coding: a hexadecimal size line, that many bytes, CRLF; size 0 ends it.
        while index < received.count,
            let lineEnd = (index..<received.count - 1).first(where: { received[$0] == 13 && received[$0 + 1] == 10 })
        {
            guard let size = Int(String(decoding: received[index..<lineEnd], as: UTF8.self), radix: 16), size > 0,
                lineEnd + 2 + size <= received.count
            else { break }
            body.append(contentsOf: received[(lineEnd + 2)..<(lineEnd + 2 + size)])
            index = lineEnd + 2 + size + 2
        }
        return (String(decoding: received[0..<end], as: UTF8.self), String(decoding: body, as: UTF8.self))
    }
}
