import Foundation
import HTTPServer
@testable import Purser
import Testing
import TestSupport

/// Long free text is described so that generators draw it quickly and exactly as before: no
/// `pattern` beside a large `maxLength` anywhere in the document, and the `not` rules that replace
/// them admit and refuse the same strings as one anchored pattern would.
@Suite struct TextSchemaTests {
    typealias Object = OpenAPITests.Object

    @Test func noPatternSitsBesideALargeMaxLength() throws {
        let app = try TestApp()
        let document = try OpenAPITests.document(app)
        var slow: [String] = []
        func walk(_ value: Any, at place: String) {
            if let object = value as? Object {
                if object["pattern"] != nil, let most = object["maxLength"] as? Int, most > 2000 { slow.append(place) }
                for (key, inner) in object { walk(inner, at: place + "/" + key) }
            } else if let array = value as? [Any] {
                for (index, inner) in array.enumerated() { walk(inner, at: place + "/\(index)") }
            }
        }
        walk(document, at: "#")
        #expect(slow.isEmpty, "a pattern with a maxLength over 2,000 is slow to draw from: \(slow.sorted())")
    }

    /// The same strings are admitted as by one anchored pattern. (The one these replace,
    /// `^[^\u0000]*\S[^\u0000]*$`, let a single NUL through as its `\S`; the server refuses any.)
    @Test func theRulesAdmitWhatOneAnchoredPatternWould() throws {
        let cases: [(new: JSONValue, pattern: String)] = [
            (
                TextSchema.nonBlank(maxLength: 50000),
                #"{"type": "string", "minLength": 1, "maxLength": 50000, "pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"}"#
            ),
            (TextSchema.withoutNUL(maxLength: 20000), #"{"type": "string", "maxLength": 20000, "pattern": "^[^\\u0000]*$"}"#),
        ]
        let python = try TestEnvironment.venvBin("python")
        for (new, pattern) in cases {
            let result = try Subprocess.run(
                python,
                [
                    "-c",
                    """
                    import json, sys
                    from jsonschema import Draft202012Validator
                    new, anchored = (Draft202012Validator(json.loads(a)) for a in sys.argv[1:3])
                    samples = ["", " ", "\\n\\t \\r", "\\u00a0\\u2003\\u3000", "a", " a ", "a\\n", "\\u0000", "a\\u0000",
                               " \\u0000 ", "\\u0085", "\\ufeff", "é", "中", "x" * 20000, "x" * 20001, " " * 19999 + "y",
                               "x" * 50000, "x" * 50001, " " * 50000]
                    differ = [repr(s[:12]) + f"…({len(s)})" for s in samples if new.is_valid(s) != anchored.is_valid(s)]
                    print("differ", differ)
                    """, String(decoding: new.serialized(), as: UTF8.self), pattern,
                ])
            #expect(result.status == 0 && result.output.contains("differ []"), "\(result.output)")
        }
    }
}
