// One vocabulary for the health of a language-model endpoint, shared by rollout gates, probes and
// anomaly alerts: what is measured, in which unit, and which direction is bad. A gate is a
// threshold on one signal over a window; a reading is the signals measured over one.
import Foundation

public enum LLMSignal: String, Codable, Sendable, CaseIterable, Comparable {
    /// Failed requests over all requests, a fraction 0…1.
    case errorRate = "error_rate"
    /// 95th percentile of the whole request's latency, in milliseconds.
    case p95LatencyMs = "p95_latency_ms"
    /// 95th percentile of the time to the first streamed token, in milliseconds.
    case p95TTFTMs = "p95_ttft_ms"
    /// Output tokens per second of generation, the mean over the window.
    case tokensPerSecond = "tokens_per_second"
    /// Cost of 1,000 tokens (input and output) in micro-units of the tenant's currency.
    case costPer1kTokens = "cost_per_1k_tokens"

    /// Whether a larger value is worse (a gate puts a maximum on it) or better (a minimum).
    public var higherIsWorse: Bool { self != .tokensPerSecond }

    public var label: String {
        switch self {
        case .errorRate: "error rate"
        case .p95LatencyMs: "p95 latency"
        case .p95TTFTMs: "p95 time to first token"
        case .tokensPerSecond: "tokens per second"
        case .costPer1kTokens: "cost per 1,000 tokens"
        }
    }

    public var unit: String {
        switch self {
        case .errorRate: "%"
        case .p95LatencyMs, .p95TTFTMs: "ms"
        case .tokensPerSecond: "tokens/s"
        case .costPer1kTokens: "micros"
        }
    }

    /// A value as people read it: the error rate in percent, the rest as measured.
    public func display(_ value: Double) -> String {
        switch self {
        case .errorRate: String(format: "%.2f %%", value * 100)
        case .p95LatencyMs, .p95TTFTMs: String(format: "%.0f ms", value)
        case .tokensPerSecond: String(format: "%.1f tokens/s", value)
        case .costPer1kTokens: String(format: "%.0f micros", value)
        }
    }

    public static func < (a: LLMSignal, b: LLMSignal) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What was measured of one variant over one window. A signal the source cannot measure (SageMaker
/// knows no time to first token) is absent, never zero.
public struct LLMReading: Codable, Sendable, Equatable {
    public var requests: Int
    public var values: [LLMSignal: Double]

    public init(requests: Int, values: [LLMSignal: Double]) {
        self.requests = requests
        self.values = values
    }

    public static let empty = LLMReading(requests: 0, values: [:])

    enum CodingKeys: String, CodingKey { case requests, values }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requests = try container.decode(Int.self, forKey: .requests)
        let raw = try container.decode([String: Double].self, forKey: .values)
        values = Dictionary(uniqueKeysWithValues: raw.compactMap { key, value in LLMSignal(rawValue: key).map { ($0, value) } })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(requests, forKey: .requests)
        try container.encode(Dictionary(uniqueKeysWithValues: values.map { ($0.rawValue, $1) }), forKey: .values)
    }
}

/// A threshold on one signal: `max` for a signal where higher is worse, `min` where higher is
/// better. Stored as JSON in deployments.gates and model_versions.default_gates:
/// {"signal": "error_rate", "max": 0.02, "window_seconds": 300, "min_requests": 20}.
public struct LLMGate: Codable, Sendable, Equatable {
    public var signal: LLMSignal
    public var max: Double?
    public var min: Double?
    /// How far back the reading looks; nil: the step's bake time.
    public var windowSeconds: Int?
    /// Fewer requests than this in the window decide nothing (the step waits, up to its deadline).
    public var minRequests: Int?

    public static let defaultMinRequests = 20

    public init(signal: LLMSignal, max: Double? = nil, min: Double? = nil, windowSeconds: Int? = nil, minRequests: Int? = nil) {
        self.signal = signal
        self.max = max
        self.min = min
        self.windowSeconds = windowSeconds
        self.minRequests = minRequests
    }

    enum CodingKeys: String, CodingKey {
        case signal, max, min
        case windowSeconds = "window_seconds"
        case minRequests = "min_requests"
    }

    public enum Verdict: String, Codable, Sendable { case pass, fail, undecided, notMeasured = "not_measured" }

    /// Pass, fail, or undecided when the window holds too few requests. A signal the provider does
    /// not measure is `notMeasured` and decides nothing.
    public func judge(_ reading: LLMReading) -> Verdict {
        guard reading.requests >= (minRequests ?? Self.defaultMinRequests) else { return .undecided }
        guard let value = reading.values[signal] else { return .notMeasured }
        if let max, value > max { return .fail }
        if let min, value < min { return .fail }
        return .pass
    }

    /// "error rate ≤ 2.00 %"
    public var summary: String {
        if let max { return "\(signal.label) ≤ \(signal.display(max))" }
        if let min { return "\(signal.label) ≥ \(signal.display(min))" }
        return signal.label
    }

    /// What is wrong with a gate list given as JSON (for the deployment form and API): each problem
    /// names the rule. Empty: the list is good.
    public static func problems(_ json: String) -> [String] {
        guard let data = json.data(using: .utf8), let list = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
            return ["Gates must be a JSON array of {\"signal\", \"max\" or \"min\"} objects."]
        }
        var problems: [String] = []
        for (index, item) in list.enumerated() {
            guard let object = item as? [String: Any], let name = object["signal"] as? String else {
                problems.append("Gate \(index + 1) has no signal.")
                continue
            }
            guard let signal = LLMSignal(rawValue: name) else {
                problems.append(
                    "Gate \(index + 1): unknown signal \"\(name)\" (known: \(LLMSignal.allCases.map(\.rawValue).joined(separator: ", "))).")
                continue
            }
            let hasMax = object["max"] is NSNumber
            let hasMin = object["min"] is NSNumber
            if signal.higherIsWorse && !hasMax { problems.append("Gate \(index + 1): \(signal.label) needs a \"max\".") }
            if !signal.higherIsWorse && !hasMin { problems.append("Gate \(index + 1): \(signal.label) needs a \"min\".") }
            // A threshold outside what the signal can read would fail (or pass) every reading.
            for key in ["max", "min"] {
                guard let value = (object[key] as? NSNumber)?.doubleValue else { continue }
                if signal == .errorRate && !(0...1).contains(value) {
                    problems.append("Gate \(index + 1): the error rate's \"\(key)\" is a fraction 0–1 (0.02 is 2 %).")
                } else if !value.isFinite || value < 0 {
                    problems.append("Gate \(index + 1): \(signal.label)'s \"\(key)\" must be 0 or more.")
                }
            }
            // Whole numbers in range: the reconciler reads them as Int.
            for (key, range) in [("window_seconds", 1...604_800), ("min_requests", 0...1_000_000_000)] {
                guard let given = object[key] else { continue }
                let value = (given as? NSNumber)?.doubleValue ?? .nan
                if !(value.rounded() == value && Double(range.lowerBound) <= value && value <= Double(range.upperBound)) {
                    problems.append("Gate \(index + 1): \(key) must be a whole number \(range.lowerBound)–\(range.upperBound).")
                }
            }
        }
        return problems
    }

    /// The gates that apply to a deployment: its own, and the version's defaults for every signal
    /// it does not gate itself, so a rollout without hand-made gates still rolls a bad version back.
    public static func effective(own: [LLMGate], defaults: [LLMGate]) -> [LLMGate] {
        let gated = Set(own.map(\.signal))
        return own + defaults.filter { !gated.contains($0.signal) }
    }
}
