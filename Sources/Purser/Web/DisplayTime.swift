// Times as pages show them: UTC, to the minute, sortable and unambiguous.
import Foundation

enum DisplayTime {
    static func format(_ date: Date?) -> String {
        guard let date else { return "—" }
        let text = RFC3339.string(date)
        // 2026-11-23T15:04:05.123Z → 2026-11-23 15:04 UTC
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + " UTC"
    }

    /// A span as people say it: "45 s", "12 min", "3 h 05 min", "2 d 4 h".
    static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(abs(seconds).rounded())
        switch total {
        case ..<60: return "\(total) s"
        case ..<3600: return "\(total / 60) min"
        case ..<86400: return "\(total / 3600) h " + String(format: "%02d", total % 3600 / 60) + " min"
        default: return "\(total / 86400) d \(total % 86400 / 3600) h"
        }
    }
}
