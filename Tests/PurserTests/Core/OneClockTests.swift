import Foundation
import Testing
import TestSupport

/// Time of day comes from the World's clock, in Swift and in SQL: a statement that stamps or
/// compares time binds the clock's `now`, so a test that moves the clock moves everything at once.
/// Durations (metrics, timings) use a monotonic clock and are not times of day.
@Suite struct OneClockTests {
    static let sources = TestEnvironment.root.appendingPathComponent("Sources/Purser")
    /// The live clock is the one place that asks the system for the time of day.
    static let liveClock = "World/WallClock.swift"

    static func swiftFiles() -> [String] {
        (FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String } ?? []).filter { $0.hasSuffix(".swift") }
            .sorted()
    }

    /// Each line of each source file, comments left out (they may name what they avoid).
    static func codeLines() throws -> [(file: String, number: Int, text: String)] {
        try swiftFiles().flatMap { file in
            try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
                    let code = line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line)
                    return code.trimmingCharacters(in: .whitespaces).isEmpty ? nil : (file, index + 1, code)
                }
        }
    }

    static func describe(_ lines: [(file: String, number: Int, text: String)]) -> String {
        lines.map { "\($0.file):\($0.number): \($0.text)" }.joined(separator: "\n")
    }

    /// `DispatchTime.now()` (written `.now()`) is monotonic, for timeouts, and is not matched.
    @Test func sqlBindsTheClockInsteadOfReadingPostgreSQLs() throws {
        #expect(Self.swiftFiles().count > 100)
        let pattern = try NSRegularExpression(
            pattern:
                #"(?<![.\w])now\(\)|\bCURRENT_TIMESTAMP\b|\bclock_timestamp\(\)|\bLOCALTIMESTAMP\b|\bstatement_timestamp\(\)|\btransaction_timestamp\(\)"#,
            options: [.caseInsensitive])
        let found = try Self.codeLines().filter { line in
            pattern.firstMatch(in: line.text, range: NSRange(line.text.startIndex..., in: line.text)) != nil
        }
        #expect(found.isEmpty, "SQL reading PostgreSQL's clock:\n\(Self.describe(found))")
    }

    @Test func swiftReadsTheTimeOfDayOnlyFromTheLiveClock() throws {
        let pattern = try NSRegularExpression(pattern: #"\bDate\(\)|\bDate\.now\b|\bDate\.init\b|\bDate\s*\(\s*\)"#)
        let found = try Self.codeLines().filter { line in
            line.file != Self.liveClock && pattern.firstMatch(in: line.text, range: NSRange(line.text.startIndex..., in: line.text)) != nil
        }
        #expect(found.isEmpty, "time of day read outside the World's clock:\n\(Self.describe(found))")
    }
}
