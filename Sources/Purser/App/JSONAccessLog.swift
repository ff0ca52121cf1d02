// The access log as JSON lines, written straight into the log sink's buffer: fixed keys as
// prepared bytes, numbers without String conversions, since it runs once per request.
import HTTPServer

struct JSONAccessLog: AccessLog {
    let sink: LogSink

    private static let opening = Array(#"{"time":""#.utf8)
    private static let fixed = Array(#"","level":"info","logger":"http","message":"request","request_id":"#.utf8)
    private static let method = Array(#","method":"#.utf8)
    private static let route = Array(#","route":"#.utf8)
    private static let status = Array(#","status":"#.utf8)
    private static let duration = Array(#","duration_ms":"#.utf8)
    private static let client = Array(#","client":"#.utf8)

    func record(_ entry: AccessLogEntry) {
        sink.append { line in
            line.append(contentsOf: Self.opening)
            JSONLogHandler.appendTimestamp(to: &line)
            line.append(contentsOf: Self.fixed)
            JSONWriter.appendQuoted(entry.requestID, to: &line)
            line.append(contentsOf: Self.method)
            JSONWriter.appendQuoted(entry.method, to: &line)
            line.append(contentsOf: Self.route)
            JSONWriter.appendQuoted(entry.route, to: &line)
            line.append(contentsOf: Self.status)
            Self.appendDecimal(entry.status, to: &line)
            line.append(contentsOf: Self.duration)
            // Milliseconds with three decimals, from whole microseconds.
            Self.appendDecimal(entry.durationMicroseconds / 1000, to: &line)
            line.append(UInt8(ascii: "."))
            let fraction = entry.durationMicroseconds % 1000
            line.append(UInt8(48 + fraction / 100))
            line.append(UInt8(48 + fraction / 10 % 10))
            line.append(UInt8(48 + fraction % 10))
            line.append(contentsOf: Self.client)
            JSONWriter.appendQuoted(entry.client, to: &line)
            line.append(contentsOf: [UInt8(ascii: "}"), 10])
        }
    }

    static func appendDecimal(_ value: Int, to line: inout [UInt8]) {
        if value < 0 {
            line.append(UInt8(ascii: "-"))
            appendDecimal(-value, to: &line)
            return
        }
        if value >= 10 { appendDecimal(value / 10, to: &line) }
        line.append(UInt8(48 + value % 10))
    }
}
