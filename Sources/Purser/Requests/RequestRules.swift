// What a service request's fields must be, written once: filing and changing a request, from a
// page or the API, are checked by these and refused with these words; the API document's
// schemas say the same (`subjectSchema`, …).
import Foundation
import struct HTTPServer.FieldError
import enum HTTPServer.JSONValue

public enum RequestRules {
    static let subjectDetail = "give a subject of 1–200 characters, on one line"
    static let descriptionDetail = "keep it under 50,000 characters, without NUL"
    static let typeDetail = "use one of " + RequestType.allCases.map(\.rawValue).joined(separator: ", ")
    static let priorityDetail = "use P1, P2, P3 or P4"

    /// At most 200 characters as sent (the API document's `maxLength`), not only spaces (they are
    /// trimmed as it is kept), with no control characters anywhere (a line break included).
    static func subject(_ text: String) -> FieldError? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.isEmpty || text.unicodeScalars.count > 200 || hasControl(text) else { return nil }
        return FieldError(field: "subject", detail: subjectDetail)
    }

    static func description(_ text: String) -> FieldError? {
        guard text.unicodeScalars.count > 50000 || text.unicodeScalars.contains("\u{0}") else { return nil }
        return FieldError(field: "description", detail: descriptionDetail)
    }

    static func type(_ text: String) -> FieldError? {
        RequestType(rawValue: text) == nil ? FieldError(field: "type", detail: typeDetail) : nil
    }

    static func priority(_ text: String) -> FieldError? {
        RequestPriority(rawValue: text) == nil ? FieldError(field: "priority", detail: priorityDetail) : nil
    }

    static func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    static let subjectSchema: JSONValue = [
        "type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$",
    ]
    static let descriptionSchema = TextSchema.withoutNUL(maxLength: 50000)
    static let typeSchema: JSONValue = ["type": "string", "enum": .array(RequestType.allCases.map { .string($0.rawValue) })]
    static let prioritySchema: JSONValue = ["type": "string", "enum": .array(RequestPriority.allCases.map { .string($0.rawValue) })]
}
