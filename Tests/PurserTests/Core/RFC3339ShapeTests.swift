import Foundation
@testable import Purser
import Testing

/// RFC 3339 times as the API reads and writes them: an offset beyond ±23:59, one without its colon
/// and a five-digit year are refused (Foundation's reader took +25:00 as +02:00), and a stored
/// year past 9999 is written with all its digits.
@Suite struct RFC3339ShapeTests {
    @Test func offsetsBeyondADayAndOtherShapesAreRefused() {
        #expect(RFC3339.date("2026-11-27T10:00:00+23:59") == Date(timeIntervalSince1970: 1_795_773_600 - 86_340))
        #expect(RFC3339.date("2026-11-27T10:00:00.250-05:30") == Date(timeIntervalSince1970: 1_795_773_600 + 19_800.25))
        #expect(RFC3339.date("2026-11-27T10:00:00Z") == Date(timeIntervalSince1970: 1_795_773_600))
        for bad in [
            "2026-11-27T10:00:00+25:00", "2026-11-27T10:00:00+24:00", "2026-11-27T10:00:00+12:99", "2026-11-27T10:00:00+0200",
            "2026-11-27T10:00:00", "10000-01-01T00:00:00Z", "2026-11-27T10:00:00.Z", "2026-11-27 10:00:00Z", "2026-11-27T10:00:00Z ",
        ] {
            #expect(RFC3339.date(bad) == nil, "\(bad)")
        }
    }

    @Test func yearsPastTenThousandKeepTheirDigits() {
        // 10000-01-01T00:00:00Z, which PostgreSQL can hold.
        #expect(RFC3339.string(Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: 253_402_300_799)) == "9999-12-31T23:59:59.000Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }
}
