// What a worker process counts: jobs finished by kind and outcome, and how long handlers took.
import Foundation
import class HTTPServer.Locked
import class HTTPServer.MetricsRegistry

final class JobMetrics: Sendable {
    private struct Counts {
        var outcomes: [String: [String: Int]] = [:]
        var buckets: [String: [Int]] = [:]
        var sums: [String: Double] = [:]
        var counts: [String: Int] = [:]
    }

    private let counts = Locked(Counts())
    private let bounds = MetricsRegistry.durationBounds

    func record(kind: String, outcome: String, seconds: Double) {
        let index = bounds.firstIndex { seconds <= $0 }
        counts.withLock { counts in
            counts.outcomes[kind, default: [:]][outcome, default: 0] += 1
            var buckets = counts.buckets[kind] ?? [Int](repeating: 0, count: bounds.count)
            if let index { buckets[index] += 1 }
            counts.buckets[kind] = buckets
            counts.sums[kind, default: 0] += seconds
            counts.counts[kind, default: 0] += 1
        }
    }

    func register(in registry: MetricsRegistry) {
        registry.register(
            name: "purser_jobs_finished_total", help: "Job attempts finished, by kind and outcome.",
            type: "counter"
        ) { [counts] in
            counts.withLock { $0.outcomes }.sorted { $0.key < $1.key }.flatMap { kind, outcomes in
                outcomes.sorted { $0.key < $1.key }.map { .init([("kind", kind), ("outcome", $0.key)], Double($0.value)) }
            }
        }
        registry.register(
            name: "purser_job_duration_seconds", help: "Time a handler took, by kind.",
            type: "histogram"
        ) { [counts, bounds] in
            let snapshot = counts.withLock { $0 }
            var samples: [MetricsRegistry.Sample] = []
            for kind in snapshot.counts.keys.sorted() {
                var cumulative = 0
                for (bound, count) in zip(bounds, snapshot.buckets[kind] ?? []) {
                    cumulative += count
                    samples.append(.init([("kind", kind), ("le", String(bound))], Double(cumulative), suffix: "_bucket"))
                }
                let total = Double(snapshot.counts[kind] ?? 0)
                samples.append(.init([("kind", kind), ("le", "+Inf")], total, suffix: "_bucket"))
                samples.append(.init([("kind", kind)], snapshot.sums[kind] ?? 0, suffix: "_sum"))
                samples.append(.init([("kind", kind)], total, suffix: "_count"))
            }
            return samples
        }
    }
}
