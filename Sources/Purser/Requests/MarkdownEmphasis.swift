// `**strong**` and `*emphasis*` in a run of request Markdown text, found in forward scans that each
// look at a byte once. Strong pairs are taken first, left to right (a pair with nothing between ends
// the search); then single `*` pair up, left to right, around or inside strong text but never across
// its edge, so the tags always nest (a `*` whose partner lies across an edge stays a plain `*`).

enum MarkdownEmphasis {
    private struct Tag {
        let position: Int
        let width: Int
        let element: BoundedHTML.Element
        let opens: Bool
    }

    static func render(_ source: [UInt8], _ range: Range<Int>, into output: inout BoundedHTML) {
        let strong = strongPairs(source, range)
        let emphasis = emphasisPairs(source, range, around: strong)
        // Both lists are in order and their markers never share a position: merge them.
        var tags: [Tag] = []
        tags.reserveCapacity(2 * (strong.count + emphasis.count))
        var s = 0, e = 0
        while s < 2 * strong.count || e < 2 * emphasis.count {
            let nextStrong = s < 2 * strong.count ? (s % 2 == 0 ? strong[s / 2].open : strong[s / 2].close) : Int.max
            let nextEmphasis = e < 2 * emphasis.count ? (e % 2 == 0 ? emphasis[e / 2].open : emphasis[e / 2].close) : Int.max
            if nextStrong < nextEmphasis {
                tags.append(Tag(position: nextStrong, width: 2, element: .strong, opens: s % 2 == 0))
                s += 1
            } else {
                tags.append(Tag(position: nextEmphasis, width: 1, element: .emphasis, opens: e % 2 == 0))
                e += 1
            }
        }
        var position = range.lowerBound
        for tag in tags {
            output.text(source[position..<tag.position])
            if tag.opens { output.start(tag.element) } else { output.end(tag.element) }
            position = tag.position + tag.width
        }
        output.text(source[position..<range.upperBound])
    }

    /// Positions of the `**` that open and close strong text.
    private static func strongPairs(_ source: [UInt8], _ range: Range<Int>) -> [(open: Int, close: Int)] {
        var pairs: [(open: Int, close: Int)] = []
        var from = range.lowerBound
        while let open = doubleMarker(source, from: from, before: range.upperBound),
            let close = doubleMarker(source, from: open + 2, before: range.upperBound), close > open + 2
        {
            pairs.append((open, close))
            from = close + 2
        }
        return pairs
    }

    /// Positions of the single `*` that open and close emphasis: the stretches outside strong text
    /// form one context (emphasis may hold whole strong text), each strong text's inside another.
    private static func emphasisPairs(_ source: [UInt8], _ range: Range<Int>, around strong: [(open: Int, close: Int)])
        -> [(open: Int, close: Int)]
    {
        var pairs: [(open: Int, close: Int)] = []
        var waiting: (position: Int, context: Int)?
        var stretchStart = range.lowerBound
        for stretch in 0...(2 * strong.count) {
            // Even stretches lie outside strong text (context -1), odd ones inside strong pair stretch / 2.
            let context = stretch % 2 == 0 ? -1 : stretch / 2
            let stretchEnd =
                stretch == 2 * strong.count
                ? range.upperBound
                : stretch % 2 == 0 ? strong[stretch / 2].open : strong[stretch / 2].close
            for index in stretchStart..<stretchEnd where source[index] == UInt8(ascii: "*") {
                guard let open = waiting else {
                    waiting = (index, context)
                    continue
                }
                if index == open.position + 1 { return pairs }  // `**` left over: the search ends, as it always has
                if open.context == context {
                    pairs.append((open.position, index))
                    waiting = nil
                } else {
                    waiting = (index, context)
                }
            }
            stretchStart = stretchEnd + 2
        }
        return pairs
    }

    /// The first `**` at or after `start`.
    private static func doubleMarker(_ source: [UInt8], from start: Int, before end: Int) -> Int? {
        var index = start
        while index + 1 < end {
            if source[index] == UInt8(ascii: "*") && source[index + 1] == UInt8(ascii: "*") { return index }
            index += 1
        }
        return nil
    }
}
