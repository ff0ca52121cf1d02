// The Markdown subset service requests are written in, rendered to HTML by our own small renderer
// (no package in reach is safe for this): paragraphs, *emphasis*, **strong**, `code`, fenced code
// blocks, - and 1. lists, > quotes, and [links](https://…). Every HTML character of the source is
// escaped, so the source can never produce a tag or attribute of its own; links keep only http,
// https and mailto targets (anything else is shown as text).
//
// Customers write this text and everyone, staff included, reads it, so it is rendered as if hostile:
// one pass over the UTF-8 bytes, line by line, with no recursion, so the time is linear in the source
// and the stack use fixed. Quotes nest at most `maxQuoteDepth` deep (a deeper `>` is shown as text),
// and the HTML stops, still well-formed, at `outputLimit(forSourceBytes:)` bytes.

public enum Markdown {
    /// The deepest quote rendered as a quote; a `>` beyond it is text.
    public static let maxQuoteDepth = 8

    /// The most HTML written for a source of `count` UTF-8 bytes. Escaping alone makes text at most
    /// six times longer (`"` → `&quot;`), so 8× leaves room for ordinary markup; only a source that
    /// is nearly all markup (quotes opened and closed on every line, runs of empty code spans) is cut
    /// short. Never more than 2 MiB, whatever the source.
    public static func outputLimit(forSourceBytes count: Int) -> Int {
        min(max(count * 8, 4096), 2 * 1024 * 1024)
    }

    public static func html(_ source: String) -> String {
        let bytes = Array(source.utf8)
        var blocks = MarkdownBlocks(source: bytes, output: BoundedHTML(limit: outputLimit(forSourceBytes: bytes.count)))
        return blocks.render()
    }

    /// Every character HTML gives a meaning: & < > " '. Works on UTF-8 bytes (these five are
    /// ASCII and never part of a longer sequence), and hands back text that needs none unchanged.
    public static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { BoundedHTML.entity(for: $0) != nil }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            if let entity = BoundedHTML.entity(for: byte) {
                entity.withUTF8Buffer { out.append(contentsOf: $0) }
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `range` of `source` without the white space at either end: tab and the space separators
    /// (Unicode category Zs, as Foundation's `.whitespaces`), recognised on their UTF-8 bytes.
    static func trim(_ source: [UInt8], _ range: Range<Int>) -> Range<Int> {
        var start = range.lowerBound, end = range.upperBound
        while start < end, let width = spaceWidth(source, at: start, before: end) { start += width }
        while start < end {
            if source[end - 1] == 0x20 || source[end - 1] == 0x09 {
                end -= 1
            } else if end - start >= 2, spaceWidth(source, at: end - 2, before: end) == 2 {
                end -= 2
            } else if end - start >= 3, spaceWidth(source, at: end - 3, before: end) == 3 {
                end -= 3
            } else {
                break
            }
        }
        return start..<end
    }

    /// The length of the white space character at `index`, or nil when there is none there.
    private static func spaceWidth(_ source: [UInt8], at index: Int, before end: Int) -> Int? {
        let first = source[index]
        if first == 0x20 || first == 0x09 { return 1 }
        if first == 0xC2, index + 1 < end, source[index + 1] == 0xA0 { return 2 }  // U+00A0
        guard first >= 0xE1, first <= 0xE3, index + 2 < end else { return nil }
        switch (first, source[index + 1], source[index + 2]) {
        case (0xE1, 0x9A, 0x80): return 3  // U+1680
        case (0xE2, 0x80, 0x80...0x8A), (0xE2, 0x80, 0xAF): return 3  // U+2000–U+200A, U+202F
        case (0xE2, 0x81, 0x9F): return 3  // U+205F
        case (0xE3, 0x80, 0x80): return 3  // U+3000
        default: return nil
        }
    }
}

/// The block structure: quotes as a count of open levels (never a recursion), and at the innermost
/// level at most one open paragraph, list or fenced code block. Each line is looked at once per open
/// quote level, and there are at most `maxQuoteDepth` of those.
struct MarkdownBlocks {
    private enum Leaf: Equatable {
        case none, paragraph, list(ordered: Bool), fence(hasLine: Bool)
    }

    let source: [UInt8]
    var output: BoundedHTML
    private var depth = 0
    private var leaf = Leaf.none

    init(source: [UInt8], output: BoundedHTML) {
        self.source = source
        self.output = output
    }

    mutating func render() -> String {
        // Lines end at \n, \r\n or \r.
        var start = 0
        while !output.isFull {
            var end = start
            while end < source.count && source[end] != 0x0A && source[end] != 0x0D { end += 1 }
            line(start..<end)
            guard end < source.count else { break }
            start = end + (source[end] == 0x0D && end + 1 < source.count && source[end + 1] == 0x0A ? 2 : 1)
        }
        closeQuotes(downTo: 0)
        return output.finish()
    }

    /// Follows the line through the open quotes while it carries their `>`; the first level it does not
    /// continue ends the quotes inside it.
    private mutating func line(_ raw: Range<Int>) {
        var text = raw
        var level = 0
        while level < depth {
            let trimmed = Markdown.trim(source, text)
            guard !trimmed.isEmpty, source[trimmed.lowerBound] == UInt8(ascii: ">") else {
                closeQuotes(downTo: level)
                break
            }
            text = Markdown.trim(source, trimmed.dropFirst())
            level += 1
        }
        innermost(text)
    }

    /// The line within the innermost open quote (or the document): fence, blank, new quote, list item
    /// or paragraph text, in that order.
    private mutating func innermost(_ line: Range<Int>) {
        var line = line
        while true {
            let trimmed = Markdown.trim(source, line)
            if case .fence(let hasLine) = leaf {
                if startsFence(trimmed) {
                    closeLeaf()
                } else {
                    if hasLine { output.markup("\n") }
                    output.text(source[line])
                    leaf = .fence(hasLine: true)
                }
                return
            }
            if startsFence(trimmed) {
                closeLeaf()
                output.start(.codeBlock)
                leaf = .fence(hasLine: false)
                return
            }
            if trimmed.isEmpty {
                closeLeaf()
                return
            }
            if source[trimmed.lowerBound] == UInt8(ascii: ">") && depth < Markdown.maxQuoteDepth {
                closeLeaf()
                output.start(.quote)
                depth += 1
                line = trimmed.dropFirst()
                continue
            }
            if let item = listItem(trimmed) {
                if leaf != .list(ordered: item.ordered) {
                    closeLeaf()
                    output.start(item.ordered ? .orderedList : .unorderedList)
                    leaf = .list(ordered: item.ordered)
                }
                output.start(.item)
                MarkdownInline.render(source, item.text, into: &output)
                output.end(.item)
                return
            }
            if leaf == .paragraph {
                output.markup("<br>")
            } else {
                closeLeaf()
                output.start(.paragraph)
                leaf = .paragraph
            }
            MarkdownInline.render(source, trimmed, into: &output)
            return
        }
    }

    private func startsFence(_ trimmed: Range<Int>) -> Bool {
        trimmed.count >= 3 && source[trimmed.lowerBound..<trimmed.lowerBound + 3].allSatisfy { $0 == UInt8(ascii: "`") }
    }

    /// `- item`, `* item` (unordered) or `1. item` (ordered, at most nine digits).
    private func listItem(_ trimmed: Range<Int>) -> (ordered: Bool, text: Range<Int>)? {
        let start = trimmed.lowerBound, end = trimmed.upperBound
        guard end - start >= 2 else { return nil }
        if (source[start] == UInt8(ascii: "-") || source[start] == UInt8(ascii: "*")) && source[start + 1] == 0x20 {
            return (false, start + 2..<end)
        }
        var digitsEnd = start
        while digitsEnd < end && digitsEnd - start <= 9 && (0x30...0x39).contains(source[digitsEnd]) { digitsEnd += 1 }
        guard digitsEnd > start, digitsEnd - start <= 9, digitsEnd + 1 < end,
            source[digitsEnd] == UInt8(ascii: "."), source[digitsEnd + 1] == 0x20
        else { return nil }
        return (true, digitsEnd + 2..<end)
    }

    private mutating func closeLeaf() {
        switch leaf {
        case .none: break
        case .paragraph: output.end(.paragraph)
        case .list(let ordered): output.end(ordered ? .orderedList : .unorderedList)
        case .fence: output.end(.codeBlock)
        }
        leaf = .none
    }

    private mutating func closeQuotes(downTo level: Int) {
        closeLeaf()
        while depth > level {
            output.end(.quote)
            depth -= 1
        }
    }
}
