// The API document's schemas for long free text (replies, notes, descriptions, runbooks). Each
// rule is a `not` of a short pattern rather than one anchored pattern with a `*` beside a large
// `maxLength`: generators fold the length into such a pattern (`^[^\u0000]{0,49999}\S…$`), and
// every regex engine that compiles the result — schemathesis drawing requests, validators reading
// the document — builds an automaton tens of thousands of states long, so a single body took
// seconds of CPU to draw and schemathesis failed its "data generation is too slow" health check.
// The rules are the server's (RequestComments.add and the like). The pattern they replace,
// `^[^\u0000]*\S[^\u0000]*$`, also let one NUL through as its `\S`; these refuse any, as the server does.
import HTTPServer

enum TextSchema {
    /// Up to `maxLength` characters (Unicode scalars, as the server counts) without NUL, which
    /// PostgreSQL text cannot hold; may be empty.
    static func withoutNUL(maxLength: Int, description: String? = nil) -> JSONValue {
        schema(
            [("maxLength", .number(Double(maxLength))), ("not", ["pattern": "\\u0000"])], description: description)
    }

    /// 1 to `maxLength` characters, at least one of them not white space, and no NUL.
    static func nonBlank(maxLength: Int, description: String? = nil) -> JSONValue {
        schema(
            [
                ("minLength", 1), ("maxLength", .number(Double(maxLength))),
                ("not", ["anyOf": [["pattern": "^\\s*$"], ["pattern": "\\u0000"]]]),
            ], description: description)
    }

    private static func schema(_ rules: [(String, JSONValue)], description: String?) -> JSONValue {
        .object([("type", "string")] + rules + (description.map { [("description", JSONValue.string($0))] } ?? []))
    }
}
