import Foundation
@testable import Purser
import Testing
import TestSupport

/// Template values are escaped by Unicode scalar: an HTML character followed by a combining mark
/// is still escaped, so a reflected value cannot end a quoted attribute.
@Suite struct TemplateEscapingTests {
    let templates: Templates

    init() throws {
        templates = try Templates(folder: TestEnvironment.root.appendingPathComponent("Templates"))
    }

    @Test func everySpecialCharacterIsEscapedBeforeACombiningMark() throws {
        let escaped = ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"]
        for (special, entity) in escaped {
            let value = special + "\u{301} autofocus onfocus=alert(1) x=" + special + "\u{301}"
            // The staff queue and the audit viewer reflect their filters into quoted attributes.
            for (template, field) in [("requests/queue", "tenant"), ("audit/index", "actor"), ("audit/index", "target")] {
                let html = try #require(templates.render(template, [field: value]))
                let rest = try #require(html.components(separatedBy: "name=\"\(field)\" value=\"").dropFirst().first)
                let attribute = String(rest.prefix { $0 != "\"" })
                #expect(
                    attribute == entity + "\u{301} autofocus onfocus=alert(1) x=" + entity + "\u{301}", "\(template) \(field) \(special)")
            }
        }
    }

    @Test func plainTextTemplatesStillTakeTheirValuesAsWritten() throws {
        // Mail's text part renders with triple braces: nothing escaped there.
        let text = try #require(templates.render("notifications/email/notification.txt", ["subject": "A & B \"quoted\"", "text": "x < y"]))
        #expect(text.contains("A & B \"quoted\"") && text.contains("x < y"))
    }
}

/// The tests above render templates with bare dictionaries of strings, which encode as themselves.
extension Dictionary: TemplateModel where Key == String, Value == String {}
