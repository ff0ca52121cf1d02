import Foundation
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Usage ingest stays exact under load from outside the process: four curl processes post NDJSON
/// files at the same time to two serve nodes on one database, with half their event ids shared with
/// the next writer so duplicates race across nodes. Every accepted event is stored once and the
/// rollups reconcile with the raw events to the micro-unit.
@Suite(.serialized) struct UsageIngestProcessesTests {
    static let created = Date(timeIntervalSince1970: 1_795_003_200)  // 2026-11-18T12:00:00Z
    static let writers = 4
    static let batches = 4
    static let perBatch = 150
    let clock = SettableClock(created)
    let app: TestApp
    let second: TestApp
    let people: People
    let owner: Connection

    init() throws {
        app = try TestApp(clock: clock)
        second = try TestApp(database: app.database, clock: clock)
        people = try People(app, staff: true)
        owner = try app.database.connect()
        clock.advance(by: 40 * 86400)
    }

    /// One writer's batch: its own 75 events, then the same 75 events the next writer sends as its
    /// own (identical lines), so every event is sent twice by two processes to two different nodes.
    func batch(writer: Int, batch: Int) -> String {
        (0..<Self.perBatch).map { n -> String in
            let owner = n < Self.perBatch / 2 ? writer : (writer + 1) % Self.writers
            let m = n % (Self.perBatch / 2)
            let occurred = RFC3339.string(Self.created.addingTimeInterval(Double(m % 25) * 86400 + Double(m % 24) * 3600))
            return
                #"{"event_id":"p\#(owner)-\#(batch)-\#(m)","occurred_at":"\#(occurred)","provider":"openai","model":"gpt-4o-mini","input_tokens":\#(m * 7 + owner + 3),"output_tokens":\#(m % 11),"team":"t\#(m % 3)"}"#
        }.joined(separator: "\n")
    }

    @Test func concurrentWriterProcessesOnTwoNodesLoseAndDoubleNothing() throws {
        try owner.query(
            """
            INSERT INTO prices (id, kind, provider, item, currency, effective_from, input_per_million, output_per_million, source,
                                source_read_on, created_at)
            VALUES ($1, 'tokens', 'openai', 'gpt-4o-mini', 'USD', $2, 150000, 600000, 'test', '2026-11-01', $2)
            """, [UUID(), Self.created])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("usage-writers-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // One curl per writer posts its batches in turn, alternating nodes; each answer goes to a file.
        var processes: [(Process, Pipe)] = []
        for writer in 0..<Self.writers {
            let bearer = try app.app.tokens.create(
                user: people.id("tenant_admin@acme.test"), tenant: people.tenant, name: "w\(writer)", scopes: [.usageWrite],
                lifetime: 3600, actor: .system
            ).token
            var arguments = ["--silent", "--show-error", "--noproxy", "*"]
            for number in 0..<Self.batches {
                let file = directory.appendingPathComponent("w\(writer)-\(number).ndjson")
                try batch(writer: writer, batch: number).write(to: file, atomically: true, encoding: .utf8)
                let node = (writer + number) % 2 == 0 ? app : second
                if number > 0 { arguments.append("--next") }
                arguments += [
                    "--header", "Authorization: Bearer \(bearer)", "--header", "Content-Type: application/x-ndjson",
                    "--data-binary", "@\(file.path)", "--output", directory.appendingPathComponent("w\(writer)-\(number).json").path,
                    "--write-out", "%{http_code}\\n", node.baseURL + "/api/v1/usage",
                ]
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            processes.append((process, pipe))
        }
        for (process, _) in processes { try process.run() }
        var statuses: [String] = []
        for (process, pipe) in processes {
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(String(decoding: output, as: UTF8.self))")
            statuses += String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        #expect(statuses == Array(repeating: "200", count: Self.writers * Self.batches))

        var accepted = 0
        var duplicates = 0
        for writer in 0..<Self.writers {
            for number in 0..<Self.batches {
                let data = try Data(contentsOf: directory.appendingPathComponent("w\(writer)-\(number).json"))
                let body = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                #expect(body["rejected"] as? Int == 0, "\(body)")
                accepted += body["accepted"] as? Int ?? 0
                duplicates += body["duplicates"] as? Int ?? 0
            }
        }
        // Every id was sent twice: exactly one of the two sends is accepted, the other is a duplicate.
        let distinct = Self.writers * Self.batches * Self.perBatch / 2
        #expect(accepted == distinct && duplicates == distinct, "accepted \(accepted), duplicates \(duplicates)")

        let stored = try owner.query("SELECT count(*), count(DISTINCT event_id), sum(cost_micros)::bigint FROM usage_events")[0]
        let rows = try stored.require(0, as: Int.self)
        #expect(try rows == accepted && stored.require(1, as: Int.self) == rows)
        #expect(try owner.query("SELECT count(*) FROM usage_event_ids")[0].require(0, as: Int.self) == rows)
        let cost = try stored.require(2, as: Int64.self)
        #expect(cost > 0)
        let daily = try owner.query("SELECT sum(cost_micros)::bigint, sum(events)::int FROM usage_daily")[0]
        #expect(try daily.require(0, as: Int64.self) == cost && daily.require(1, as: Int.self) == rows)
        let models = try owner.query("SELECT sum(cost_micros)::bigint FROM usage_daily_models")[0]
        #expect(try models.require(0, as: Int64.self) == cost)
        #expect(try UsageIngestTests.mismatches(owner).isEmpty)
    }
}
