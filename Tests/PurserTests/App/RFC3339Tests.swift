import Foundation
@testable import Purser
import Testing

@Suite struct RFC3339Tests {
    @Test func matchesFoundationsFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for seconds in [0.0, 59.999, 951_782_400.5, 1_795_000_000.123, -86_400.25, 4_102_444_800] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(RFC3339.string(date) == formatter.string(from: date), "\(seconds)")
        }
    }
}
