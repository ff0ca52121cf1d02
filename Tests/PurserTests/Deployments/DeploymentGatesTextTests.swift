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
}
