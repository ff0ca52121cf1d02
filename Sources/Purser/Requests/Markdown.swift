// The Markdown subset service requests are written in, rendered to HTML by our own small renderer
// (no package in reach is safe for this): paragraphs, *emphasis*, **strong**, `code`, fenced code
// blocks, - and 1. lists, > quotes, and [links](https://…). Every HTML character of the source is
// escaped before anything else is recognised, so the source can never produce a tag or attribute
// of its own; links keep only http, https and mailto targets (anything else is shown as text).
import Foundation

public enum Markdown {
    public static func html(_ source: String) -> String {
        let lines = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var out = ""
        var index = 0
        var paragraph: [String] = []

        func flushParagraph() {
            guard !paragraph.isEmpty else { return }
            out += "<p>" + paragraph.map(inline).joined(separator: "<br>") + "</p>\n"
            paragraph.removeAll()
        }

        while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                flushParagraph()
                var code: [String] = []
                index += 1
                while index < lines.count && !lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                    code.append(lines[index])
                    index += 1
                }
                out += "<pre><code>" + escape(code.joined(separator: "\n")) + "</code></pre>\n"
                index += 1
                continue
            }
            if trimmed.isEmpty {
                flushParagraph()
                index += 1
                continue
            }
            if trimmed.hasPrefix(">") {
                flushParagraph()
                var quoted: [String] = []
                while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).hasPrefix(">") {
                    quoted.append(String(lines[index].trimmingCharacters(in: .whitespaces).dropFirst()).trimmingCharacters(in: .whitespaces))
                    index += 1
                }
                out += "<blockquote>" + html(quoted.joined(separator: "\n")) + "</blockquote>\n"
                continue
            }
            if let (ordered, _) = listItem(trimmed) {
                flushParagraph()
                var items: [String] = []
                while index < lines.count, let (itemOrdered, text) = listItem(lines[index].trimmingCharacters(in: .whitespaces)),
                      itemOrdered == ordered {
                    items.append(text)
                    index += 1
                }
                let tag = ordered ? "ol" : "ul"
                out += "<\(tag)>" + items.map { "<li>" + inline($0) + "</li>" }.joined() + "</\(tag)>\n"
                continue
            }
            paragraph.append(trimmed)
            index += 1
        }
        flushParagraph()
        return out
    }

    /// `- item`, `* item` (unordered) or `1. item` (ordered).
    static func listItem(_ line: String) -> (ordered: Bool, text: String)? {
        if line.hasPrefix("- ") || line.hasPrefix("* ") { return (false, String(line.dropFirst(2))) }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 9, line.dropFirst(digits.count).hasPrefix(". ") {
            return (true, String(line.dropFirst(digits.count + 2)))
        }
        return nil
    }

    /// Code spans, links, strong and emphasis within one line; everything escaped first.
    static func inline(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.hasPrefix("`"), let end = rest.dropFirst().firstIndex(of: "`") {
                out += "<code>" + escape(String(rest[rest.index(after: rest.startIndex)..<end])) + "</code>"
                rest = rest[rest.index(after: end)...]
                continue
            }
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix("("),
               let end = rest[close...].firstIndex(of: ")") {
                let label = String(rest[rest.index(after: rest.startIndex)..<close])
                let target = String(rest[rest.index(close, offsetBy: 2)..<end]).trimmingCharacters(in: .whitespaces)
                if isSafeLink(target) {
                    out += "<a href=\"" + escape(target) + "\" rel=\"nofollow noopener noreferrer\">" + emphasis(escape(label)) + "</a>"
                } else {
                    out += escape("[" + label + "](" + target + ")")
                }
                rest = rest[rest.index(after: end)...]
                continue
            }
            let next = rest.firstIndex { $0 == "`" || $0 == "[" } ?? rest.endIndex
            let chunk = next == rest.startIndex ? rest.prefix(1) : rest[..<next]
            out += emphasis(escape(String(chunk)))
            rest = rest[chunk.endIndex...]
        }
        return out
    }

    /// `**strong**` and `*emphasis*` over already escaped text (asterisks are never escaped).
    static func emphasis(_ escaped: String) -> String {
        var text = escaped
        for (marker, tag) in [("**", "strong"), ("*", "em")] {
            var result = ""
            var rest = Substring(text)
            while let open = rest.range(of: marker), let close = rest[open.upperBound...].range(of: marker),
                  close.lowerBound > open.upperBound {
                result += rest[..<open.lowerBound] + "<\(tag)>" + rest[open.upperBound..<close.lowerBound] + "</\(tag)>"
                rest = rest[close.upperBound...]
            }
            text = result + rest
        }
        return text
    }

    static func isSafeLink(_ target: String) -> Bool {
        let lower = target.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") || lower.hasPrefix("mailto:") else { return false }
        return !target.unicodeScalars.contains { $0.properties.generalCategory == .control || $0 == " " }
    }

    /// Every character HTML gives a meaning: & < > " '. Works on UTF-8 bytes (these five are
    /// ASCII and never part of a longer sequence), and hands back text that needs none unchanged.
    public static func escape(_ text: String) -> String {
        let special: (UInt8) -> Bool = { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }
        guard text.utf8.contains(where: special) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case 0x26: out.append(contentsOf: "&amp;".utf8)
            case 0x3C: out.append(contentsOf: "&lt;".utf8)
            case 0x3E: out.append(contentsOf: "&gt;".utf8)
            case 0x22: out.append(contentsOf: "&quot;".utf8)
            case 0x27: out.append(contentsOf: "&#39;".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
