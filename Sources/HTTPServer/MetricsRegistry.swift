// Prometheus metrics kept in process: request counts and durations by route template and status,
// plus gauges read at scrape time (pool sizes, build info) that other layers register.
import Foundation
import Synchronization

public final class MetricsRegistry: Sendable {
    static let bucketBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private struct Histogram {
        var buckets = [UInt64](repeating: 0, count: MetricsRegistry.bucketBounds.count)
        var count: UInt64 = 0
        var sum: Double = 0

        mutating func record(bucket: Int?, seconds: Double) {
            if let bucket { buckets[bucket] += 1 }
            count += 1
            sum += seconds
        }

        func adding(_ other: Histogram) -> Histogram {
            var total = self
            for index in buckets.indices { total.buckets[index] += other.buckets[index] }
            total.count += other.count
            total.sum += other.sum
            return total
        }
    }

    public struct Sample: Sendable {
        public let labels: [(String, String)]
        public let value: Double
        /// Appended to the metric's name: `_bucket`, `_sum`, `_count` for a histogram's series.
        public let suffix: String
        public init(_ labels: [(String, String)] = [], _ value: Double, suffix: String = "") {
            self.labels = labels
            self.value = value
            self.suffix = suffix
        }
    }

    /// Bucket bounds of the request-duration histogram, in seconds, for other histograms to share.
    public static var durationBounds: [Double] { bucketBounds }

    private struct Gauge {
        let name: String
        let help: String
        let type: String
        let read: @Sendable () -> [Sample]
    }

    private struct Counts {
        var requests: [RequestKey: UInt64] = [:]
        var durations: [String: Histogram] = [:]
    }

    /// Requests are counted in one of several shards, picked by thread, so the I/O threads rarely
    /// contend; a scrape adds the shards up.
    private final class Shard: Sendable {
        let counts = Locked(Counts())
    }

    private let shards: [Shard] = (0..<8).map { _ in Shard() }
    private let gauges = Locked<[Gauge]>([])

    public init() {}

    /// Records one answered request under its route template (`/api/v1/requests/{id}`), never its raw path,
    /// so the number of series stays bounded whatever clients send.
    public func observeRequest(route: String, method: String, status: Int, seconds: Double) {
        let index = Self.bucketBounds.firstIndex { seconds <= $0 }
        let shard = shards[shardIndex(count: shards.count)]
        shard.counts.withLock { counts in
            counts.requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            counts.durations[route, default: Histogram()].record(bucket: index, seconds: seconds)
        }
    }

    /// Adds a metric whose samples are read when `/metrics` is scraped; `type` is `gauge`,
    /// `counter` or `histogram` (whose samples carry the `_bucket`, `_sum`, `_count` suffixes).
    public func register(name: String, help: String, type: String = "gauge", read: @escaping @Sendable () -> [Sample]) {
        gauges.withLock { $0.append(Gauge(name: name, help: help, type: type, read: read)) }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public func render() -> String {
        var requests: [RequestKey: UInt64] = [:]
        var durations: [String: Histogram] = [:]
        for shard in shards {
            let counts = shard.counts.withLock { $0 }
            requests.merge(counts.requests, uniquingKeysWith: +)
            durations.merge(counts.durations) { $0.adding($1) }
        }
        let gauges = self.gauges.withLock { $0 }
        var out = "# HELP http_requests_total Requests answered, by route template, method and status.\n"
        out += "# TYPE http_requests_total counter\n"
        for (key, count) in requests.sorted(by: { ($0.key.route, $0.key.status) < ($1.key.route, $1.key.status) }) {
            out += "http_requests_total{route=\"\(escape(key.route))\",method=\"\(key.method)\",status=\"\(key.status)\"} \(count)\n"
        }
        out += "# HELP http_request_duration_seconds Time from a complete request to its answer.\n"
        out += "# TYPE http_request_duration_seconds histogram\n"
        for (route, histogram) in durations.sorted(by: { $0.key < $1.key }) {
            var cumulative: UInt64 = 0
            for (bound, count) in zip(Self.bucketBounds, histogram.buckets) {
                cumulative += count
                out += "http_request_duration_seconds_bucket{route=\"\(escape(route))\",le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "http_request_duration_seconds_bucket{route=\"\(escape(route))\",le=\"+Inf\"} \(histogram.count)\n"
            out += "http_request_duration_seconds_sum{route=\"\(escape(route))\"} \(histogram.sum)\n"
            out += "http_request_duration_seconds_count{route=\"\(escape(route))\"} \(histogram.count)\n"
        }
        for gauge in gauges {
            out += "# HELP \(gauge.name) \(gauge.help)\n# TYPE \(gauge.name) \(gauge.type)\n"
            for sample in gauge.read() {
                let labels = sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
                let value = sample.value == sample.value.rounded() ? String(Int64(sample.value)) : String(sample.value)
                let name = gauge.name + sample.suffix
                out += labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(labels)} \(value)\n"
            }
        }
        return out
    }

    private func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
