import Foundation
@testable import Purser
import Testing

/// The bounded readers of usage batches and the rules of one event, without a database.
@Suite struct UsageParserTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18
    let created = Date(timeIntervalSince1970: 1_790_000_000)

    func events(_ items: [UsageItem]) -> [Result<UsageEvent, UsageParseError>] {
        items.map { $0.record.flatMap { UsageRules.event($0, now: now, tenantCreated: created, kept: created) } }
    }

    func reason(_ result: Result<UsageEvent, UsageParseError>) -> String? {
        if case .failure(let error) = result { return error.message }
        return nil
    }

    @Test func ndjsonRejectsBadLinesByNumberAndKeepsTheirNeighbours() throws {
        let body = """
            {"event_id":"a","occurred_at":"2026-11-17T10:00:00Z","provider":"OpenAI","model":"gpt-4o-mini","input_tokens":7}

            {"event_id":"b","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"gpt-4o","input_tokens":-1}
            {"event_id":"c", "occurred_at":
            {"event_id":"d","occurred_at":"2026-11-17T10:00:00+01:00","provider":"aws","gpu_type":"H100","gpu_seconds":3600.5,"host":"gpu-1"}
            {"event_id":"e","occurred_at":"2099-01-01T00:00:00Z","provider":"openai","model":"gpt-4o"}
            {"event_id":"f","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"gpt-4o","colour":"red"}
            {"event_id":"g","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"gpt-4o","output_tokens":"12"}
            {"event_id":"h","occurred_at":"2025-01-01T00:00:00Z","provider":"openai","model":"gpt-4o"}
            {"event_id":"i","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"gpt-4o","input_tokens":5000000000}
            [1, 2]
            """
        let items = try NDJSONUsageParser.lines(Array(body.utf8))
        #expect(items.map(\.position) == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        let read = events(items)
        let first = try read[0].get()
        #expect(first.provider == "openai" && first.inputTokens == 7 && first.requests == 1 && first.kind == .tokens)
        #expect(reason(read[1]) == "'input_tokens' is negative")
        #expect(reason(read[2])?.contains("has no value") == true || reason(read[2])?.contains("not JSON") == true)
        let gpu = try read[3].get()
        #expect(gpu.kind == .gpu && gpu.gpuSeconds == "3600.5" && gpu.item == "H100" && gpu.requests == 0)
        #expect(gpu.occurredSeconds == UsageTime.epochSeconds("2026-11-17T09:00:00Z"))
        #expect(reason(read[4]) == "'occurred_at' is in the future")
        #expect(reason(read[5]) == "'colour' is not a field of a usage event")
        #expect(reason(read[6]) == "'output_tokens' must be a whole number")
        #expect(reason(read[7]) == "'occurred_at' is before the tenant existed")
        #expect(reason(read[8])?.contains("not a plausible value") == true)
        #expect(reason(read[9]) == "expected a JSON object")
    }

    @Test func linesFieldsAndValuesAreCapped() throws {
        let long = #"{"event_id":""# + String(repeating: "x", count: 20000) + #""}"#
        let items = try NDJSONUsageParser.lines(Array((long + "\n" + #"{"event_id":"a"}"#).utf8))
        #expect(reason(events([items[0]])[0])?.contains("longer than 16384 bytes") == true)
        let many = "{" + (1...40).map { #""f\#($0)":1"# }.joined(separator: ",") + "}"
        #expect(reason(events(try NDJSONUsageParser.lines(Array(many.utf8)))[0]) == "more than 32 fields")
        let nested = #"{"event_id":{"a":1}}"#
        #expect(reason(events(try NDJSONUsageParser.lines(Array(nested.utf8)))[0])?.contains("events are flat") == true)
        let nul = #"{"event_id":"a\u0000b"}"#
        #expect(reason(events(try NDJSONUsageParser.lines(Array(nul.utf8)))[0])?.contains("NUL") == true)
        // Over the count: refused whole (413 at the API).
        let lines = String(repeating: #"{"event_id":"a"}"# + "\n", count: 11)
        #expect(throws: UsageBatchTooLarge.self) { try NDJSONUsageParser.lines(Array(lines.utf8), maxEvents: 10) }
    }

    @Test func aJSONArrayIsReadWholeOrRefusedNamingTheElement() throws {
        let items = try NDJSONUsageParser.array(
            Array(#" [ {"event_id":"a","occurred_at":"2026-11-17T10:00:00Z","provider":"x","model":"m"}, {"event_id":"b"} ] "#.utf8))
        #expect(items.map(\.position) == [0, 1])
        #expect(reason(events(items)[1]) == "'occurred_at' is required")
        let broken = #expect(throws: UsageBatchUnreadable.self) {
            try NDJSONUsageParser.array(Array(#"[{"event_id":"a"}, {"event_id": tru}]"#.utf8))
        }
        #expect(broken?.detail?.contains("Element 1") == true)
        #expect(throws: UsageBatchUnreadable.self) { try NDJSONUsageParser.array(Array(#"{"event_id":"a"}"#.utf8)) }
        #expect(try NDJSONUsageParser.array(Array("[]".utf8)).isEmpty)
    }

    @Test func csvNeedsAHeaderOfKnownFieldsAndRejectsBadLinesByNumber() throws {
        let wrong = #expect(throws: UsageCSVHeaderError.self) {
            try CSVUsageParser.lines(Array("event_id,occurred_at,provider,modle\n".utf8))
        }
        #expect(wrong?.detail?.contains("'modle' is not a usage field") == true)
        #expect(throws: UsageCSVHeaderError.self) { try CSVUsageParser.lines(Array("provider,model\n".utf8)) }
        // Semicolons or tabs between the header's columns (and no comma): the separator is named.
        for (header, said) in [(#""event_id";"occurred_at";"provider""#, "semicolons"), ("event_id\toccurred_at\tprovider", "tabs")] {
            let separated = #expect(throws: UsageCSVHeaderError.self) { try CSVUsageParser.lines(Array((header + "\na;b;c\n").utf8)) }
            #expect(
                separated?.detail?.hasPrefix("Line 1: the header's columns are separated by \(said);") == true,
                "\(String(describing: separated))")
            #expect(separated?.detail?.contains("the separator must be a comma") == true)
        }
        let csv =
            "\u{FEFF}" + #"""
                event_id,occurred_at,provider,model,team,input_tokens,output_tokens
                a,2026-11-17T10:00:00Z,openai,gpt-4o,"Search, EU",10,20
                b,2026-11-17T10:00:00Z,openai,gpt-4o,"said ""hi""",x,20
                c,2026-11-17T10:00:00Z,openai
                d,2026-11-17T10:00:00Z,openai,"gpt-4o,,5,5
                """#
        let items = try CSVUsageParser.lines(Array(csv.utf8))
        #expect(items.map(\.position) == [2, 3, 4, 5])
        let read = events(items)
        let a = try read[0].get()
        #expect(a.team == "Search, EU" && a.inputTokens == 10 && a.outputTokens == 20)
        #expect(reason(read[1]) == "'input_tokens' must be a whole number")
        #expect(reason(read[2]) == "3 cells where the header has 7")
        #expect(reason(read[3])?.contains("does not close") == true)
    }

    /// Plain values are decided on their bytes; anything else takes Foundation's and Unicode's rules.
    @Test func valuesAreTrimmedAndCheckedLikeUnicodeSays() throws {
        let body = [
            #"{"event_id":"a","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"\u00A0gpt-4o\u3000","team":"\tsearch "}"#,
            #"{"event_id":"b","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"gpt\"4o\\","feature":"é"}"#,
            #"{"event_id":"c","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"gpt-4o","team":"a\u0085b"}"#,
            #"{"event_id":"d","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"gpt-4o","team":"a\u007Fb"}"#,
            "{\"event_id\":\"e\",\"occurred_at\":\"2026-11-17T10:00:00Z\",\"provider\":\"openai\",\"model\":\"m\",\"team\":\"a\tb\"}",
        ].joined(separator: "\n")
        let read = events(try NDJSONUsageParser.lines(Array(body.utf8)))
        let a = try read[0].get()
        #expect(a.model == "gpt-4o" && a.team == "search")
        let b = try read[1].get()
        #expect(b.model == "gpt\"4o\\" && b.feature == "é")
        #expect(reason(read[2]) == "'team' holds a control character")
        #expect(reason(read[3]) == "'team' holds a control character")
        #expect(reason(read[4]) == "'team' holds a control character")
        #expect(UsageRules.trimmed("gpt-4o") == "gpt-4o" && UsageRules.trimmed(" x\u{2003}") == "x" && UsageRules.trimmed("") == "")
        #expect(!UsageRules.holdsControl("plain ASCII ~") && UsageRules.holdsControl("\u{9F}") && !UsageRules.holdsControl("日本"))
    }

    /// JSON Schema's integer admits a number with no fraction however it is written: Python's
    /// json.dumps sends a float count as 7.0.
    @Test func integralNumbersAreWholeNumbersHoweverWritten() throws {
        func line(_ id: String, _ tokens: String) -> String {
            #"{"event_id":"\#(id)","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"m","input_tokens":\#(tokens)}"#
        }
        let sent = ["7.0", "1e3", "1.0E+2", "0.0", "1500e-1", "0e999999999", "7.5", "1e30", "\"12\"", "1e-1", "1.25e1", "1000000000.0"]
        let body = sent.enumerated().map { line("e\($0.offset)", $0.element) }.joined(separator: "\n")
        let read = events(try NDJSONUsageParser.lines(Array(body.utf8)))
        #expect(try read[0].get().inputTokens == 7)
        #expect(try read[1].get().inputTokens == 1000)
        #expect(try read[2].get().inputTokens == 100)
        #expect(try read[3].get().inputTokens == 0)
        #expect(try read[4].get().inputTokens == 150)
        #expect(try read[5].get().inputTokens == 0)
        #expect(reason(read[6]) == "'input_tokens' must be a whole number")
        #expect(reason(read[7])?.contains("not a plausible value") == true)
        #expect(reason(read[8]) == "'input_tokens' must be a whole number")
        #expect(reason(read[9]) == "'input_tokens' must be a whole number")
        #expect(reason(read[10]) == "'input_tokens' must be a whole number")
        #expect(try read[11].get().inputTokens == 1_000_000_000)
        let csv = "event_id,occurred_at,provider,model,requests\na,2026-11-17T10:00:00Z,openai,m,2.0\nb,2026-11-17T10:00:00Z,openai,m,2.5\n"
        let cells = events(try CSVUsageParser.lines(Array(csv.utf8)))
        #expect(try cells[0].get().requests == 2)
        #expect(reason(cells[1]) == "'requests' must be a whole number")
    }

    /// The byte-level shortcuts (ASCII values, lower-case providers, offsets read in place) decide as
    /// the general paths do: raw bytes that are not UTF-8 are refused on their line alone, a provider
    /// that lower-cases to ASCII only through Unicode (the Kelvin sign) is still lower-cased.
    @Test func shortcutsDecideAsTheGeneralPathsDo() throws {
        var body = Array(#"{"event_id":"a","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"gpt-"#.utf8)
        body += [0xFF, 0xFE] + Array(#""}"#.utf8) + [10]
        body += Array(#"{"event_id":"b","occurred_at":"2026-11-17T10:00:00+15:59","provider":"\#u{212A}IMI","model":"m"}"#.utf8) + [10]
        body += Array(#"{"event_id":"c","occurred_at":"2026-11-17T10:00:00+16:00","provider":"OpenAI","model":"m"}"#.utf8) + [10]
        body += Array(#"{"event_id":"d","occurred_at":"2026-11-17T10:00:00Z","provider":"openai","model":"gpt-4o","input_tokens":7}"#.utf8)
        let read = events(try NDJSONUsageParser.lines(body))
        #expect(reason(read[0]) == "'model' is not valid UTF-8")
        #expect(try read[1].get().provider == "kimi")
        #expect(reason(read[2])?.contains("beyond ±15:59") == true)
        let d = try read[3].get()
        #expect(d.provider == "openai" && d.model == "gpt-4o" && d.inputTokens == 7 && d.occurredAt == "2026-11-17T10:00:00Z")
        #expect(UsageTime.epochSeconds("2023-02-29T00:00:00Z") == nil && UsageTime.epochSeconds("2024-12-31T00:00:00Z") == 1_735_603_200)
    }

    @Test func timesAreReadByHand() {
        #expect(UsageTime.epochSeconds("1970-01-01T00:00:00Z") == 0)
        #expect(UsageTime.epochSeconds("2026-11-27T09:15:00.123456Z") == 1_795_770_900)
        #expect(UsageTime.epochSeconds("2026-11-27T10:15:00+01:00") == 1_795_770_900)
        #expect(UsageTime.epochSeconds("2024-02-29T00:00:00Z") == 1_709_164_800)
        for bad in ["2026-02-30T00:00:00Z", "2026-11-27 09:15", "2026-11-27T09:15:00", "2026-11-27T25:00:00Z", "2026-11-27T09:15:00+1:00"] {
            #expect(UsageTime.epochSeconds(bad) == nil, "\(bad)")
        }
    }
}
