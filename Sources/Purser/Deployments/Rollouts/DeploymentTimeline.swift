// The rollout's timeline for the deployment page: every transition the reconciler made, with the
// figures that decided each step (each gated signal against its gate), and a chart of the gate
// signals per step drawn as a percentage of each gate's limit (100 % is the limit; a bar beyond
// it failed), so signals of different units share one axis. Rendered by
// Templates/deployments/timeline.mustache inside the deployment page.
import Foundation
import Postgres

public struct DeploymentTimeline: TemplateModel {
    public struct Entry: Encodable, Sendable {
        let at: String
        let action: String
        let state: String
        let step: String?
        let weight: String?
        let reason: String
        let figures: [Figure]
        /// Whether the figures table shows (a template cannot ask an array whether it is empty).
        let hasFigures: Bool
        let requests: String?
        let window: String?
        let failed: Bool
    }

    public struct Figure: Encodable, Sendable {
        let signal: String
        let value: String
        let gate: String
        let verdict: String
        let failed: Bool
    }

    let provider: String
    let sandbox: Bool
    let entries: [Entry]
    let chart: String?

    /// The timeline of `deployment`, or nil when nothing has rolled out yet.
    public static func view(_ tx: Connection, tenant: UUID, deployment: UUID) throws -> DeploymentTimeline? {
        let rows = try tx.query(
            """
            SELECT e.at, e.action, e.to_state, e.step, e.weight, e.reason, e.figures::text, e.window_start, e.window_end, t.kind
            FROM rollout_events e JOIN deployments d ON d.tenant_id = e.tenant_id AND d.id = e.deployment_id
            JOIN deployment_targets t ON t.tenant_id = d.tenant_id AND t.id = d.target_id
            WHERE e.tenant_id = $1 AND e.deployment_id = $2 ORDER BY e.seq
            """, [tenant, deployment])
        guard let first = rows.first else { return nil }
        let kind: String = try first.require(9)
        var entries: [Entry] = []
        var groups: [(label: String, values: [LLMSignal: Double])] = []
        var signals = Set<LLMSignal>()
        for row in rows {
            let step: Int? = try row.decode(3)
            let figures = (try? JSONDecoder().decode(RolloutFigures.self, from: Data(try row.require(6, as: String.self).utf8)))
            let shown = figures?.gates.map { result in
                Figure(
                    signal: result.gate.signal.label, value: result.value.map(result.gate.signal.display) ?? "not measured",
                    gate: result.gate.summary, verdict: result.verdict.rawValue.replacingOccurrences(of: "_", with: " "),
                    failed: result.verdict == .fail)
            }
            if let figures, let step {
                var ratios: [LLMSignal: Double] = [:]
                for result in figures.gates {
                    guard let value = result.value, let ratio = ratio(value, result.gate) else { continue }
                    ratios[result.gate.signal] = ratio
                    signals.insert(result.gate.signal)
                }
                if !ratios.isEmpty { groups.append(("Step \(step + 1)", ratios)) }
            }
            let start: Date? = try row.decode(7)
            let end: Date? = try row.decode(8)
            entries.append(
                Entry(
                    at: RFC3339.string(try row.require(0)),
                    action: try row.require(1, as: String.self).replacingOccurrences(of: "_", with: " "),
                    state: try row.require(2, as: String.self).replacingOccurrences(of: "_", with: " "), step: step.map { String($0 + 1) },
                    weight: try row.decode(4, as: Int.self).map { "\($0) %" }, reason: try row.require(5), figures: shown ?? [],
                    hasFigures: !(shown ?? []).isEmpty,
                    requests: figures.map { String($0.candidate.requests) },
                    window: zip2(start, end).map { "\(RFC3339.string($0)) – \(RFC3339.string($1))" },
                    failed: shown?.contains { $0.failed } ?? false))
        }
        let series = signals.sorted()
        let chart =
            groups.isEmpty
            ? nil
            : SVGChart.percentBars(
                title: "Gate signals per step, as a percentage of each gate's limit",
                series: series.enumerated().map { SVGChart.Series(name: $1.label, colour: palette[$0 % palette.count]) },
                groups: groups.map { group in (group.label, series.map { group.values[$0] }) })
        return DeploymentTimeline(provider: kind, sandbox: kind == "sandbox", entries: entries, chart: chart)
    }

    static let palette = ["#2f6fb0", "#c7791c", "#3a8a4f", "#8a3a7a", "#6b6b6b"]

    /// How close a value came to its gate: 100 at the limit, above it beyond.
    static func ratio(_ value: Double, _ gate: LLMGate) -> Double? {
        if let max = gate.max, max > 0 { return value / max * 100 }
        if let min = gate.min, value > 0 { return min / value * 100 }
        return nil
    }

    private static func zip2(_ a: Date?, _ b: Date?) -> (Date, Date)? {
        guard let a, let b else { return nil }
        return (a, b)
    }
}
