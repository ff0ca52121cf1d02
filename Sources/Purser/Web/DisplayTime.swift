// Times as pages show them: UTC, to the minute, sortable and unambiguous.
import Foundation

enum DisplayTime {
    static func format(_ date: Date?) -> String {
        guard let date else { return "—" }
        let text = RFC3339.string(date)
        // 2026-11-23T15:04:05.123Z → 2026-11-23 15:04 UTC
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + " UTC"
    }
}
