// Code spans and links within one line of request Markdown (strong and emphasis are in
// MarkdownEmphasis), in one pass over its bytes. Where a construct needs its closing character (`]`,
// `)`, a backtick) the next one is found through `NextByte`, which never looks at a byte twice, so
// runs such as `[[[[…` or `](](](…` stay linear.

enum MarkdownInline {
    static func render(_ source: [UInt8], _ range: Range<Int>, into output: inout BoundedHTML) {
        let end = range.upperBound
        var backtick = NextByte(UInt8(ascii: "`"), before: end)
        var closeBracket = NextByte(UInt8(ascii: "]"), before: end)
        var closeParen = NextByte(UInt8(ascii: ")"), before: end)
        var position = range.lowerBound
        while position < end && !output.isFull {
            let byte = source[position]
            if byte == UInt8(ascii: "`"), let close = backtick.next(in: source, from: position + 1) {
                output.start(.code)
                output.text(source[position + 1..<close])
                output.end(.code)
                position = close + 1
                continue
            }
            if byte == UInt8(ascii: "["), let close = closeBracket.next(in: source, from: position + 1),
                close + 1 < end, source[close + 1] == UInt8(ascii: "("),
                let targetEnd = closeParen.next(in: source, from: close + 2)
            {
                let label = position + 1..<close
                let target = Markdown.trim(source, close + 2..<targetEnd)
                if isSafeLink(source[target]) {
                    output.startLink(to: source[target])
                    MarkdownEmphasis.render(source, label, into: &output)
                    output.end(.link)
                } else {
                    output.text("[".utf8)
                    output.text(source[label])
                    output.text("](".utf8)
                    output.text(source[target])
                    output.text(")".utf8)
                }
                position = targetEnd + 1
                continue
            }
            // Plain text up to the next backtick or bracket; one that opened nothing is text on its own.
            var next = position + 1
            if byte != UInt8(ascii: "`") && byte != UInt8(ascii: "[") {
                while next < end && source[next] != UInt8(ascii: "`") && source[next] != UInt8(ascii: "[") { next += 1 }
            }
            MarkdownEmphasis.render(source, position..<next, into: &output)
            position = next
        }
    }

    /// Only http, https and mailto targets, with no space or control character in them.
    static func isSafeLink(_ target: ArraySlice<UInt8>) -> Bool {
        guard ["https://", "http://", "mailto:"].contains(where: { hasPrefixIgnoringCase(target, $0) }) else { return false }
        var previous: UInt8 = 0
        for byte in target {
            // C0 controls, space, DEL, and the C1 controls U+0080–U+009F (0xC2 0x80…0x9F).
            if byte <= 0x20 || byte == 0x7F || (previous == 0xC2 && (0x80...0x9F).contains(byte)) { return false }
            previous = byte
        }
        return true
    }

    private static func hasPrefixIgnoringCase(_ bytes: ArraySlice<UInt8>, _ prefix: String) -> Bool {
        guard bytes.count >= prefix.utf8.count else { return false }
        return zip(bytes, prefix.utf8).allSatisfy { byte, expected in
            ((0x41...0x5A).contains(byte) ? byte | 0x20 : byte) == expected
        }
    }
}

/// Where the next `byte` is at or after a position, when positions are asked in increasing order:
/// each answer holds until a later position passes it, so a byte of the line is examined only once
/// however many constructs look for their closing character.
struct NextByte {
    let byte: UInt8
    let end: Int
    private var askedFrom = Int.max
    private var answer: Int?

    init(_ byte: UInt8, before end: Int) {
        self.byte = byte
        self.end = end
    }

    mutating func next(in source: [UInt8], from position: Int) -> Int? {
        // The answer for `askedFrom` is the first match at or after it, so it also answers any later
        // position up to the match itself (and no match at all answers every later position).
        if position >= askedFrom && (answer ?? Int.max) >= position { return answer }
        askedFrom = position
        var index = position
        while index < end && source[index] != byte { index += 1 }
        answer = index < end ? index : nil
        return answer
    }
}
