// Logs as one JSON object per line on stdout. Lines are buffered and written in batches (at most
// 100 ms late, at once for warnings and worse) so that logging every request costs no syscall each.
import Foundation
import HTTPServer
import Logging
import Synchronization

public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let sink: LogSink

    public init(label: String, level: Logger.Level, sink: LogSink = .standardOutput) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        var json = JSONWriter()
        json.object { object in
            object.field("time", Self.timestamp())
            object.field("level", level.rawValue)
            object.field("logger", label)
            object.field("message", message.description)
            for (key, value) in metadata where extra?[key] == nil { object.field(key, Self.text(value)) }
            for (key, value) in extra ?? [:] { object.field(key, Self.text(value)) }
        }
        var bytes = json.bytes
        bytes.append(10)
        sink.write(bytes, urgent: level >= .warning)
    }

    private static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        default: value.description
        }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T\(pad(parts.tm_hour)):"
            + "\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}

/// Where log lines go: a buffer flushed to a file descriptor by a background thread.
public final class LogSink: Sendable {
    public static let standardOutput = LogSink(descriptor: 1)

    private let descriptor: Int32
    private let buffer = Mutex<[UInt8]>([])

    init(descriptor: Int32) {
        self.descriptor = descriptor
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.1)
                flush()
            }
        }
        thread.name = "log-flush"
        thread.start()
    }

    func write(_ line: [UInt8], urgent: Bool) {
        let full = buffer.withLock { pending in
            pending.append(contentsOf: line)
            return pending.count > 32 * 1024
        }
        if urgent || full { flush() }
    }

    /// Writes whatever is buffered; call before the process exits.
    public func flush() {
        let pending = buffer.withLock { pending -> [UInt8] in
            let taken = pending
            pending.removeAll(keepingCapacity: true)
            return taken
        }
        guard !pending.isEmpty else { return }
        pending.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
