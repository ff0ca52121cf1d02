// The Markdown renderer's output: HTML with a hard ceiling on its size. The writer remembers every
// element it opened and keeps room for their closing tags, so when the ceiling is reached the text
// stops at a character boundary, everything still open is closed, and a note says the rest is not
// shown: the result is well-formed and never longer than `limit` bytes, whatever the source.

struct BoundedHTML {
    enum Element {
        case paragraph, unorderedList, orderedList, item, quote, codeBlock, code, link, strong, emphasis

        var opening: StaticString {
            switch self {
            case .paragraph: "<p>"
            case .unorderedList: "<ul>"
            case .orderedList: "<ol>"
            case .item: "<li>"
            case .quote: "<blockquote>"
            case .codeBlock: "<pre><code>"
            case .code: "<code>"
            case .link: "<a href=\""
            case .strong: "<strong>"
            case .emphasis: "<em>"
            }
        }

        var closing: StaticString {
            switch self {
            case .paragraph: "</p>\n"
            case .unorderedList: "</ul>\n"
            case .orderedList: "</ol>\n"
            case .item: "</li>"
            case .quote: "</blockquote>\n"
            case .codeBlock: "</code></pre>\n"
            case .code: "</code>"
            case .link: "</a>"
            case .strong: "</strong>"
            case .emphasis: "</em>"
            }
        }
    }

    static let linkAttributes: StaticString = "\" rel=\"nofollow noopener noreferrer\">"
    static let truncationNote: StaticString = "<p><em>The rest of this text is too long to show.</em></p>\n"

    private(set) var bytes: [UInt8] = []
    /// Once true, nothing more is written: the renderer may stop, and `finish` closes what is open.
    private(set) var isFull = false
    private var open: [Element] = []
    /// Bytes kept free for the closing tags of the open elements and the truncation note.
    private var reserved = truncationNote.utf8CodeUnitCount
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
        bytes.reserveCapacity(min(limit, 1 << 16))
    }

    private func fits(_ count: Int) -> Bool { bytes.count + count + reserved <= limit }

    /// Opens `element`; nothing happens once full.
    mutating func start(_ element: Element) {
        guard !isFull else { return }
        guard fits(element.opening.utf8CodeUnitCount + element.closing.utf8CodeUnitCount) else { isFull = true; return }
        append(element.opening)
        open.append(element)
        reserved += element.closing.utf8CodeUnitCount
    }

    /// Opens a link to `target` (bytes already known to be a safe http, https or mailto address), escaped
    /// into the attribute. The whole opening tag fits or the link is not opened.
    mutating func startLink<Target: Collection<UInt8>>(to target: Target) {
        guard !isFull else { return }
        let escapedCount = target.reduce(0) { $0 + (Self.entity(for: $1)?.utf8CodeUnitCount ?? 1) }
        let needed =
            Element.link.opening.utf8CodeUnitCount + escapedCount + Self.linkAttributes.utf8CodeUnitCount
            + Element.link.closing.utf8CodeUnitCount
        guard fits(needed) else { isFull = true; return }
        append(Element.link.opening)
        for byte in target { appendEscaped(byte) }
        append(Self.linkAttributes)
        open.append(.link)
        reserved += Element.link.closing.utf8CodeUnitCount
    }

    /// Closes the innermost element. The renderer names it so that a mismatch fails in debug builds (tests);
    /// a release build leaves the element open for `finish` rather than writing a wrong tag.
    mutating func end(_ element: Element) {
        guard !isFull else { return }
        guard open.last == element else {
            assertionFailure("Markdown renderer closed \(element) while \(open.last.map { "\($0)" } ?? "nothing") was open")
            return
        }
        open.removeLast()
        reserved -= element.closing.utf8CodeUnitCount
        append(element.closing)
    }

    /// A fixed piece of markup (`<br>`, a newline between code lines).
    mutating func markup(_ text: StaticString) {
        guard !isFull else { return }
        guard fits(text.utf8CodeUnitCount) else { isFull = true; return }
        append(text)
    }

    /// Source text, HTML-escaped. When the ceiling is reached part-way, the text ends before the
    /// character that did not fit, so no UTF-8 sequence is cut.
    mutating func text<Source: Collection<UInt8>>(_ source: Source) {
        guard !isFull else { return }
        var characterStart = bytes.count
        for byte in source {
            if byte & 0xC0 != 0x80 { characterStart = bytes.count }
            let count = Self.entity(for: byte)?.utf8CodeUnitCount ?? 1
            guard fits(count) else {
                bytes.removeSubrange(characterStart...)
                isFull = true
                return
            }
            appendEscaped(byte)
        }
    }

    /// The HTML, with anything still open closed, and the note when the ceiling was reached.
    mutating func finish() -> String {
        while let element = open.popLast() { append(element.closing) }
        if isFull { append(Self.truncationNote) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        if let entity = Self.entity(for: byte) { append(entity) } else { bytes.append(byte) }
    }

    /// Every character HTML gives a meaning: & < > " '. They are ASCII, never part of a longer UTF-8 sequence.
    static func entity(for byte: UInt8) -> StaticString? {
        switch byte {
        case UInt8(ascii: "&"): "&amp;"
        case UInt8(ascii: "<"): "&lt;"
        case UInt8(ascii: ">"): "&gt;"
        case UInt8(ascii: "\""): "&quot;"
        case UInt8(ascii: "'"): "&#39;"
        default: nil
        }
    }
}
