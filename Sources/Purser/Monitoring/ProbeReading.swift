// What one probe found, in the LLMSignal vocabulary where it measures one: the whole request's
// latency (p95_latency_ms over a window), the time to the first streamed token (p95_ttft_ms), and
// whether it failed (error_rate). How an outcome counts toward uptime is ProbeOutcome's rule.
import Foundation

public enum ProbeOutcome: String, Sendable, Codable, CaseIterable {
    /// The endpoint answered as it should.
    case up
    /// The endpoint failed, confirmed by a retry: counts against uptime.
    case down
    /// Purser could not make the probe (its resolver gave no address, the target's credentials
    /// could not be opened or the provider refused them, the destination is refused, the request
    /// could not be built): not counted for or against the endpoint.
    case purserError = "purser_error"
    /// Inside a planned maintenance window: not counted.
    case maintenance

    /// Whether the outcome counts toward uptime at all.
    public var counts: Bool { self == .up || self == .down }
}

public struct ProbeReading: Sendable, Equatable {
    public var outcome: ProbeOutcome
    public var status: Int?
    public var latencyMs: Int?
    public var ttftMs: Int?
    /// Streamed content pieces (tokens, as OpenAI-compatible servers send one per chunk).
    public var tokens: Int?
    public var error: String?
    /// The first try failed and this is the retry's reading.
    public var retried = false

    public init(
        outcome: ProbeOutcome, status: Int? = nil, latencyMs: Int? = nil, ttftMs: Int? = nil, tokens: Int? = nil,
        error: String? = nil
    ) {
        self.outcome = outcome
        self.status = status
        self.latencyMs = latencyMs
        self.ttftMs = ttftMs
        self.tokens = tokens
        self.error = error.map { String($0.prefix(500)) }
    }

    /// The signals this reading measured (absent, never zero, when not measured).
    public var signals: [LLMSignal: Double] {
        var values: [LLMSignal: Double] = [.errorRate: outcome == .down ? 1 : 0]
        if let latencyMs { values[.p95LatencyMs] = Double(latencyMs) }
        if let ttftMs { values[.p95TTFTMs] = Double(ttftMs) }
        if let tokens, let latencyMs, let ttftMs, tokens > 1, latencyMs > ttftMs {
            values[.tokensPerSecond] = Double(tokens - 1) / (Double(latencyMs - ttftMs) / 1000)
        }
        return values
    }
}
