// What a usage event is and the rules it must keep, written once for the API and the CSV upload.
// A rule broken rejects that event alone, with its reason; its neighbours in the batch go on.
import Foundation

/// One valid usage event, as stored. Dimensions absent are '' (the rollups' keys cannot be NULL).
struct UsageEvent: Sendable, Equatable {
    enum Kind: String, Sendable { case tokens, gpu }

    var eventID: String
    /// RFC 3339 as sent (PostgreSQL reads it), and the instant it names, for the checks.
    var occurredAt: String
    var occurredSeconds: Int64
    var kind: Kind
    var provider = ""
    var model = ""
    var endpoint = ""
    var team = ""
    var feature = ""
    var keyRef = ""
    var inputTokens: Int64 = 0
    var outputTokens: Int64 = 0
    var cachedInputTokens: Int64 = 0
    var requests: Int64 = 1
    var latencyMs: Int64?
    var ttftMs: Int64?
    var status: String?
    var host = ""
    var gpuType = ""
    /// Exact decimal text, at most three decimals.
    var gpuSeconds = "0"

    /// What the price catalogue calls it: the model, or the GPU type.
    var item: String { kind == .gpu ? gpuType : model }
}

enum UsageRules {
    /// The fields of an event; a field's place in this list is where `read` keeps its value.
    static let fieldNames = [
        "event_id", "occurred_at", "provider", "model", "endpoint", "deployment", "team", "feature", "key_ref",
        "input_tokens", "output_tokens", "cached_input_tokens", "requests", "latency_ms", "ttft_ms", "status",
        "host", "gpu_type", "gpu_seconds",
    ]
    static let fields = Set(fieldNames)
    /// More tokens than any model's context holds many times over: a unit mistake, not usage.
    static let maxTokens: Int64 = 1_000_000_000
    static let maxRequests: Int64 = 1_000_000
    static let maxMilliseconds: Int64 = 86_400_000
    /// A year of one GPU: an event is a metering interval, not a lifetime.
    static let maxGPUSeconds: Int64 = 31_536_000
    /// How far ahead of this node's clock an event may be stamped (clock skew between gateways).
    static let futureAllowance: TimeInterval = 300

    /// The event `record` describes, or why it is not one. occurred_at lies between the tenant's
    /// creation (and the start of its retention, `kept`) and a little after `now`.
    static func event(_ record: UsageRecord, now: Date, tenantCreated: Date, kept: Date) -> Result<UsageEvent, UsageParseError> {
        do throws(UsageParseError) {
            return .success(try read(record, now: now, tenantCreated: tenantCreated, kept: kept))
        } catch {
            return .failure(error)
        }
    }

    private static func read(_ record: UsageRecord, now: Date, tenantCreated: Date, kept: Date) throws(UsageParseError) -> UsageEvent {
        // Values by the field's place in fieldNames: found by comparing a few short strings, where
        // a dictionary hashed every name two or three times (a sixth of Purser's CPU on a batch).
        var slots = [UsageValue?](repeating: nil, count: fieldNames.count)
        for (name, value) in record {
            guard let slot = fieldNames.firstIndex(of: name) else {
                throw UsageParseError("'\(name.prefix(64))' is not a field of a usage event")
            }
            if case .null = value { continue }
            slots[slot] = value
        }
        let values = FieldValues(slots: slots)
        func text(_ field: Field, max: Int, required: Bool = false) throws(UsageParseError) -> String {
            let name = field.name
            guard let value = values[field] else {
                if required { throw UsageParseError("'\(name)' is required") }
                return ""
            }
            var string: String
            switch value {
            case .string(let s), .text(let s): string = trimmed(s)
            default: throw UsageParseError("'\(name)' must be a string")
            }
            if field.isDimension { string = nfc(string) }
            if required && string.isEmpty { throw UsageParseError("'\(name)' is required") }
            guard string.utf8.count <= max else { throw UsageParseError("'\(name)' is longer than \(max) bytes") }
            guard !holdsControl(string) else { throw UsageParseError("'\(name)' holds a control character") }
            return string
        }
        func integer(_ field: Field, max: Int64) throws(UsageParseError) -> Int64? {
            let name = field.name
            guard let value = values[field] else { return nil }
            let digits: String
            switch value {
            case .number(let n), .text(let n): digits = n
            default: throw UsageParseError("'\(name)' must be a whole number")
            }
            if digits.hasPrefix("-") { throw UsageParseError("'\(name)' is negative") }
            guard !digits.isEmpty else { throw UsageParseError("'\(name)' must be a whole number") }
            // Plain digits, nearly every count, are read as they stand; 7.0 or 1e3 (JSON Schema's
            // integer admits them) only when they are not.
            let number: Int64?
            if digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                number = digits.utf8.count <= 18 ? Int64(digits) : nil
            } else {
                switch integral(digits) {
                case .fraction: throw UsageParseError("'\(name)' must be a whole number")
                case .tooLarge: number = nil
                case .value(let value): number = value
                }
            }
            guard let number, number <= max else {
                throw UsageParseError("'\(name)' is more than \(max), which is not a plausible value")
            }
            return number
        }

        let eventID = try text(.eventID, max: 128, required: true)
        let stamp = try text(.occurredAt, max: 40, required: true)
        guard let seconds = UsageTime.epochSeconds(stamp) else {
            throw UsageParseError("'occurred_at' must be an RFC 3339 time such as 2026-11-27T09:15:00Z")
        }
        // PostgreSQL reads the stamp again: one it refuses would fail the whole batch.
        guard UsageTime.offsetFitsPostgreSQL(stamp) else {
            throw UsageParseError("'occurred_at' has a UTC offset beyond ±15:59, which no time zone uses")
        }
        if Double(seconds) > now.timeIntervalSince1970 + futureAllowance {
            throw UsageParseError("'occurred_at' is in the future")
        }
        if Double(seconds) < tenantCreated.timeIntervalSince1970.rounded(.down) {
            throw UsageParseError("'occurred_at' is before the tenant existed")
        }
        if Double(seconds) < kept.timeIntervalSince1970 {
            throw UsageParseError("'occurred_at' is older than the tenant's retention of raw usage")
        }
        let gpu = values[.gpuType] != nil || values[.gpuSeconds] != nil || values[.host] != nil
        var event = UsageEvent(
            eventID: eventID, occurredAt: UsageTime.microseconds(stamp), occurredSeconds: seconds, kind: gpu ? .gpu : .tokens)
        let provider = try text(.provider, max: 50, required: true)
        // Lower-case ASCII, nearly every provider, is its own lowercase: no new string.
        event.provider = provider.utf8.allSatisfy({ $0 < 0x80 && !(65...90).contains($0) }) ? provider : provider.lowercased()
        guard event.provider.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 || $0 == 95 })
        else {
            throw UsageParseError("'provider' may hold only letters, digits, '.', '-' and '_'")
        }
        event.endpoint = try text(.endpoint, max: 200)
        let deployment = try text(.deployment, max: 200)
        if !deployment.isEmpty {
            guard event.endpoint.isEmpty || event.endpoint == deployment else {
                throw UsageParseError("'endpoint' and 'deployment' name different things; send one")
            }
            event.endpoint = deployment
        }
        event.team = try text(.team, max: 100)
        event.feature = try text(.feature, max: 100)
        event.keyRef = try text(.keyRef, max: 200)
        event.requests = try integer(.requests, max: maxRequests) ?? (event.kind == .gpu ? 0 : 1)
        event.latencyMs = try integer(.latencyMs, max: maxMilliseconds)
        event.ttftMs = try integer(.ttftMs, max: maxMilliseconds)
        if let status = values[.status] {
            switch status {
            case .number(let n): event.status = n
            default: event.status = try text(.status, max: 32)
            }
            guard event.status!.utf8.count <= 32 else { throw UsageParseError("'status' is longer than 32 bytes") }
        }
        switch event.kind {
        case .tokens:
            event.model = try text(.model, max: 200, required: true)
            event.inputTokens = try integer(.inputTokens, max: maxTokens) ?? 0
            event.outputTokens = try integer(.outputTokens, max: maxTokens) ?? 0
            event.cachedInputTokens = try integer(.cachedInputTokens, max: maxTokens) ?? 0
        case .gpu:
            for field in [Field.model, .inputTokens, .outputTokens, .cachedInputTokens] where values[field] != nil {
                throw UsageParseError("a GPU event (gpu_type, gpu_seconds, host) has no '\(field.name)'; send tokens as their own event")
            }
            event.gpuType = try text(.gpuType, max: 100, required: true)
            event.host = try text(.host, max: 200)
            event.gpuSeconds = try decimal(.gpuSeconds, values[.gpuSeconds])
        }
        return event
    }

    /// A field, by its place in fieldNames.
    enum Field: Int {
        case eventID, occurredAt, provider, model, endpoint, deployment, team, feature, keyRef, inputTokens, outputTokens
        case cachedInputTokens, requests, latencyMs, ttftMs, status, host, gpuType, gpuSeconds
        var name: String { fieldNames[rawValue] }
        /// What reports group by and budgets match: one spelling per name whatever form it was sent in.
        /// A GPU type is composed too: prices name it as their item, composed when typed.
        var isDimension: Bool { [.provider, .model, .endpoint, .deployment, .team, .feature, .keyRef, .gpuType].contains(self) }
    }

    /// `text` in Unicode's composed form (NFC): "Équipe" sent as E and a combining acute is the same
    /// team as the one sent with É, in the rollups as in Swift's comparisons. ASCII, nearly every
    /// value, is its own NFC and is kept as it is.
    static func nfc(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return text.precomposedStringWithCanonicalMapping
    }

    /// An event's values by field.
    private struct FieldValues {
        let slots: [UsageValue?]
        subscript(_ field: Field) -> UsageValue? { slots[field.rawValue] }
    }

    /// `text` without the leading and trailing whitespace of Foundation's `.whitespaces` (category Zs
    /// and tab). A value that starts and ends with a printable ASCII byte, nearly every one, has none
    /// and is decided on its bytes: Foundation's trimming bridges through NSString and cost more than
    /// the rest of an event's checks together.
    static func trimmed(_ text: String) -> String {
        guard let first = text.utf8.first, let last = text.utf8.last else { return text }
        if first > 32 && first < 128 && last > 32 && last < 128 { return text }
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// Whether `text` holds a control character (category Cc). Printable ASCII holds none, so only
    /// other text is read scalar by scalar.
    static func holdsControl(_ text: String) -> Bool {
        if text.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) { return false }
        return text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// What a number's text with a fraction or an exponent is as a whole number.
    enum Integral: Equatable {
        case value(Int64)
        /// Beyond 18 digits: more than any field's maximum.
        case tooLarge
        /// Not a number, or one with a fraction that is not zero.
        case fraction
    }

    /// The exact value of a non-negative decimal such as `7.0`, `1e3` or `1.0E+2` (the text of a
    /// JSON number or a CSV cell), decided on its digits: no binary floating point, so `1e30` or
    /// `7.0000000000000001` are never rounded into range or into a whole number.
    static func integral(_ text: String) -> Integral {
        var significand: [UInt8] = []
        var exponent = 0
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        var fractionDigits = 0
        var seenPoint = false
        var seenDigit = false
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte >= 48 && byte <= 57 {
                seenDigit = true
                if !(significand.isEmpty && byte == 48) { significand.append(byte - 48) }
                if seenPoint { fractionDigits += 1 }
            } else if byte == 46 && !seenPoint {
                seenPoint = true
            } else {
                break
            }
            index = utf8.index(after: index)
        }
        guard seenDigit else { return .fraction }
        if index < utf8.endIndex {
            guard utf8[index] == 101 || utf8[index] == 69 else { return .fraction }
            index = utf8.index(after: index)
            var negative = false
            if index < utf8.endIndex, utf8[index] == 43 || utf8[index] == 45 {
                negative = utf8[index] == 45
                index = utf8.index(after: index)
            }
            guard index < utf8.endIndex else { return .fraction }
            while index < utf8.endIndex {
                let byte = utf8[index]
                guard byte >= 48 && byte <= 57 else { return .fraction }
                // Past a million the answer no longer changes (a significand has at most 40 digits).
                exponent = Swift.min(exponent * 10 + Int(byte - 48), 1_000_000)
                index = utf8.index(after: index)
            }
            if negative { exponent = -exponent }
        }
        // significand holds the digits without leading zeros; value = significand × 10^(exponent − fractionDigits).
        while let last = significand.last, last == 0 {
            significand.removeLast()
            exponent += 1
        }
        if significand.isEmpty { return .value(0) }
        exponent -= fractionDigits
        if exponent < 0 { return .fraction }
        guard significand.count + exponent <= 18 else { return .tooLarge }
        var value: Int64 = 0
        for digit in significand { value = value * 10 + Int64(digit) }
        for _ in 0..<exponent { value *= 10 }
        return .value(value)
    }

    /// GPU-seconds: a non-negative decimal with at most three decimals, at most `maxGPUSeconds`.
    private static func decimal(_ field: Field, _ value: UsageValue?) throws(UsageParseError) -> String {
        let name = field.name
        guard let value else { throw UsageParseError("'\(name)' is required") }
        let text: String
        switch value {
        case .number(let n), .text(let n): text = n
        default: throw UsageParseError("'\(name)' must be a number")
        }
        if text.hasPrefix("-") { throw UsageParseError("'\(name)' is negative") }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty, parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }) else {
            throw UsageParseError("'\(name)' must be a decimal number such as 3600.5")
        }
        if parts.count == 2 && (parts[1].isEmpty || parts[1].count > 3) {
            throw UsageParseError("'\(name)' has more than three decimals")
        }
        guard parts[0].count <= 12, let whole = Int64(parts[0]), whole < maxGPUSeconds || (whole == maxGPUSeconds && parts.count == 1)
        else {
            throw UsageParseError("'\(name)' is more than \(maxGPUSeconds), which is not a plausible value")
        }
        return text
    }
}

/// RFC 3339 times read by hand: one per event, and Foundation's formatters cost tens of
/// microseconds each.
enum UsageTime {
    /// Seconds since the epoch (fractions dropped) of `2026-11-27T09:15:00.123Z` or `…+01:00`; nil otherwise.
    static func epochSeconds(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { epochSeconds(bytes: $0) }
    }

    /// The days of each month of a common year.
    private static let monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    private static func epochSeconds(bytes b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 20 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard let year = number(0, 4), b[4] == 45, let month = number(5, 2), b[7] == 45, let day = number(8, 2),
            b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = number(11, 2), b[13] == 58, let minute = number(14, 2),
            b[16] == 58, let second = number(17, 2)
        else { return nil }
        guard (1970...9999).contains(year), (1...12).contains(month), hour < 24, minute < 60, second < 60 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        guard day >= 1, day <= monthDays[month - 1] + (month == 2 && leap ? 1 : 0) else { return nil }
        var index = 19
        if index < b.count, b[index] == 46 {
            index += 1
            let start = index
            while index < b.count, b[index] >= 48, b[index] <= 57 { index += 1 }
            guard index > start, index - start <= 9 else { return nil }
        }
        guard index < b.count else { return nil }
        var offset = 0
        if b[index] == 90 || b[index] == 122 {
            index += 1
        } else if b[index] == 43 || b[index] == 45 {
            guard index + 6 == b.count, let h = number(index + 1, 2), b[index + 3] == 58, let m = number(index + 4, 2), h < 24, m < 60
            else { return nil }
            offset = (h * 3600 + m * 60) * (b[index] == 43 ? 1 : -1)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Int64(days * 86400 + hour * 3600 + minute * 60 + second - offset)
    }

    /// Whether PostgreSQL takes the UTC offset of `text` (a stamp `epochSeconds` read): it refuses
    /// one of 16 hours or more, which RFC 3339 allows (up to 23:59).
    static func offsetFitsPostgreSQL(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard utf8.count >= 6 else { return true }
        let sign = utf8.index(utf8.endIndex, offsetBy: -6)
        guard utf8[sign] == 43 || utf8[sign] == 45 else { return true }
        let tens = utf8[utf8.index(after: sign)]
        let ones = utf8[utf8.index(sign, offsetBy: 2)]
        return (Int(tens) - 48) * 10 + Int(ones) - 48 < 16
    }

    /// `text` with its fraction of a second cut to microseconds, PostgreSQL's precision. PostgreSQL
    /// rounds a longer fraction (Go's RFC3339Nano sends nine digits), which can carry 23:59:59.9999999
    /// into the next second, day or month: away from the second the checks and the partitions saw.
    static func microseconds(_ text: String) -> String {
        guard text.utf8.count > 27 else { return text }
        let b = Array(text.utf8)
        guard b.count > 27, b[19] == 46 else { return text }
        var end = 20
        while end < b.count, b[end] >= 48, b[end] <= 57 { end += 1 }
        guard end - 20 > 6 else { return text }
        return String(decoding: b[0..<26] + b[end...], as: UTF8.self)
    }
}
