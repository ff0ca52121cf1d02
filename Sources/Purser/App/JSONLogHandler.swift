// Logs as one JSON object per line on stdout. Lines are buffered and written in batches (at most
// 100 ms late, at once for warnings and worse) so that logging every request costs no syscall each.
import Foundation
import HTTPServer
import Logging
import Postgres
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

    public func log(event: LogEvent) {
        var json = JSONWriter()
        json.object { object in
            object.field("time", Self.timestamp())
            object.field("level", event.level.rawValue)
            object.field("logger", label)
            object.field("message", event.message.description)
            let extra = event.metadata ?? [:]
            for (key, value) in metadata where extra[key] == nil { object.field(key, Self.text(value)) }
            for (key, value) in extra { object.field(key, Self.text(value)) }
            if let error = event.error { object.field("error", String(describing: error)) }
        }
        var bytes = json.bytes
        bytes.append(10)
        sink.write(bytes, urgent: event.level >= .warning)
    }

    private static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        default: value.description
        }
    }

    static func timestamp() -> String {
        var bytes = [UInt8]()
        appendTimestamp(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the current time as `2026-11-23T09:14:03.123Z`.
    static func appendTimestamp(to out: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        RFC3339.append(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec) / 1_000_000, to: &out)
    }
}

/// Where log lines go: buffers flushed to a file descriptor by a background thread. Threads append
/// to one of several buffers, picked by thread, so that the I/O threads rarely wait on each other.
public final class LogSink: Sendable {
    public static let standardOutput = LogSink(descriptor: 1)

    private final class Shard: Sendable {
        let buffer = Locked<[UInt8]>([])
    }

    private let descriptor: Int32
    private let shards: [Shard] = (0..<8).map { _ in Shard() }
    /// Serialises writes to the descriptor so lines from different shards never interleave.
    private let writing = Locked<Void>(())

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
        append { $0.append(contentsOf: line) }
        if urgent { flush() }
    }

    /// Lets `writeLine` append one line straight into a buffer (no intermediate copy).
    func append(_ writeLine: (inout [UInt8]) -> Void) {
        let shard = shards[shardIndex(count: shards.count)]
        let full = shard.buffer.withLock { pending in
            writeLine(&pending)
            return pending.count > 32 * 1024
        }
        if full { flush() }
    }

    /// Writes whatever is buffered; call before the process exits.
    public func flush() {
        writing.withLock { _ in
            for shard in shards {
                let pending = shard.buffer.withLock { pending -> [UInt8] in
                    let taken = pending
                    pending.removeAll(keepingCapacity: true)
                    return taken
                }
                guard !pending.isEmpty else { continue }
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
    }
}
