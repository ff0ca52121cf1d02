// The access log as JSON lines, written straight into the log sink: no metadata dictionary, no
// formatting through swift-log, since it runs once per request.
import HTTPServer

struct JSONAccessLog: AccessLog {
    let sink: LogSink

    func record(_ entry: AccessLogEntry) {
        var json = JSONWriter()
        json.object { line in
            line.rawField("time", [34] + JSONLogHandler.timestampBytes() + [34])
            line.field("level", "info")
            line.field("logger", "http")
            line.field("message", "request")
            line.field("request_id", entry.requestID)
            line.field("method", entry.method)
            line.field("route", entry.route)
            line.field("status", entry.status)
            line.field("duration_ms", Double(entry.durationMicroseconds) / 1000)
            line.field("client", entry.client)
        }
        var bytes = json.bytes
        bytes.append(10)
        sink.write(bytes, urgent: false)
    }
}
