import Foundation
@testable import Purser
import Testing

/// The deployment page reads its gates as sentences, not JSON, and says when the version's defaults apply.
@Suite struct DeploymentGatesTextTests {
    @Test func gatesReadAsSentences() {
        let own = #"[{"signal": "error_rate", "max": 0.02}, {"signal": "tokens_per_second", "min": 20}]"#
        #expect(
            DeploymentPages.gatesText(own)
                == "error rate ≤ 2.00 %; tokens per second ≥ 20.0 tokens/s (the version's default gates cover the other signals)")
        #expect(DeploymentPages.gatesText("[]") == "none (the version's default gates apply)")
    }

    /// A threshold no reading can meet or miss is refused by rule: error_rate is a fraction 0…1, the
    /// other signals are not negative, and window and request counts are whole numbers in range.
    @Test func thresholdsOutsideTheirSignalsRangeAreRefused() {
        for (gate, rule) in [
            (#"{"signal": "error_rate", "max": -1}"#, "error rate"), (#"{"signal": "error_rate", "max": 2}"#, "0–1"),
            (#"{"signal": "p95_latency_ms", "max": -5}"#, "p95 latency"), (#"{"signal": "tokens_per_second", "min": -1}"#, "tokens"),
            (#"{"signal": "error_rate", "max": 0.1, "window_seconds": 1e300}"#, "window_seconds"),
            (#"{"signal": "error_rate", "max": 0.1, "window_seconds": 1.5}"#, "window_seconds"),
            (#"{"signal": "error_rate", "max": 0.1, "min_requests": -3}"#, "min_requests"),
        ] {
            let problems = LLMGate.problems("[\(gate)]")
            #expect(problems.count == 1 && problems[0].contains(rule), "\(gate): \(problems)")
        }
        #expect(
            LLMGate.problems(
                #"[{"signal": "error_rate", "max": 0}, {"signal": "error_rate", "max": 1, "window_seconds": 600, "min_requests": 0}]"#
            ) == [])
    }

    /// A bake time past any Int the default deadline (three bakes) could hold is refused by field;
    /// the multiplication used to trap and take the whole process down.
    @Test func aHugeBakeTimeIsRefusedNotMultiplied() {
        for bake in [Int.max, Int.max / 3 + 1, -Int.max] {
            let new = NewDeployment(modelVersionID: "v", environment: "e", target: "t", strategy: "canary", bakeSeconds: bake)
            do {
                _ = try DeploymentRules.plan(new)
                Issue.record("a bake of \(bake) s was accepted")
            } catch let error as ValidationError {
                #expect(error.fieldErrors.map(\.field).contains("bake_seconds"), "\(bake)")
            } catch { Issue.record("\(error)") }
        }
    }
}
