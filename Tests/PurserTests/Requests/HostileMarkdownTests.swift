import Foundation
@testable import Purser
import Testing

/// Request Markdown written to hurt: every construct repeated up to the longest text a request or
/// comment may hold. Each must come back (no recursion per nesting level, so no stack to overflow),
/// well-formed, within the output ceiling, and no more than twice as long for twice the source.
/// Render times are printed by `MarkdownTimings` below (when asked), never asserted.
@Suite struct HostileMarkdownTests {
    /// A description or comment holds at most 50,000 characters (RequestStore, RequestComments and
    /// the CHECKs of migrations/0008_requests.sql count Unicode scalars).
    static let maxScalars = 50_000

    /// `unit` repeated until the text has `scalars` Unicode scalars.
    static func filled(_ unit: String, scalars: Int = maxScalars) -> String {
        let whole = String(repeating: unit, count: scalars / unit.unicodeScalars.count)
        return whole + String(String.UnicodeScalarView(unit.unicodeScalars.prefix(scalars - whole.unicodeScalars.count)))
    }

    /// Each construct at its worst, as a function of the size wanted.
    static let hostile: [(name: String, make: @Sendable (Int) -> String)] = [
        ("> on one line", { String(repeating: ">", count: $0 - 5) + " deep" }),
        ("> > with spaces", { HostileMarkdownTests.filled("> ", scalars: $0) }),
        ("quotes opened and closed", { HostileMarkdownTests.filled(">>>>>>>>>\n\n", scalars: $0) }),
        (
            "quote per line, deepening",
            { scalars in HostileMarkdownTests.filled((1...12).map { String(repeating: ">", count: $0) + " q\n" }.joined(), scalars: scalars)
            }
        ),
        ("- runs on one line", { HostileMarkdownTests.filled("- ", scalars: $0) }),
        (
            "indented list lines",
            { scalars in
                HostileMarkdownTests.filled((0..<20).map { String(repeating: " ", count: $0) + "- item\n" }.joined(), scalars: scalars)
            }
        ),
        ("ordered and unordered alternating", { HostileMarkdownTests.filled("1. a\n- b\n", scalars: $0) }),
        ("[ run", { String(repeating: "[", count: $0) }),
        ("] run", { String(repeating: "]", count: $0) }),
        ("]( run", { HostileMarkdownTests.filled("](", scalars: $0) }),
        ("[a]( run", { HostileMarkdownTests.filled("[a](", scalars: $0) }),
        ("[ then ](", { String(repeating: "[", count: $0 / 2) + HostileMarkdownTests.filled("](", scalars: $0 - $0 / 2) }),
        ("links", { HostileMarkdownTests.filled("[*a*](https://x.test/\"q\") ", scalars: $0) }),
        ("unsafe links", { HostileMarkdownTests.filled("[a](javascript:alert(1))", scalars: $0) }),
        ("* run", { String(repeating: "*", count: $0) }),
        ("** run after text", { "a" + String(repeating: "*", count: $0 - 1) }),
        ("*a run", { HostileMarkdownTests.filled("*a", scalars: $0) }),
        ("**a run", { HostileMarkdownTests.filled("**a", scalars: $0) }),
        ("***a run", { HostileMarkdownTests.filled("***a", scalars: $0) }),
        ("emphasis crossing strong", { HostileMarkdownTests.filled("**a*b**c*", scalars: $0) }),
        ("backtick run after text", { "a" + String(repeating: "`", count: $0 - 1) }),
        ("`a run", { HostileMarkdownTests.filled("`a", scalars: $0) }),
        ("fences", { HostileMarkdownTests.filled("```\n", scalars: $0) }),
        ("unclosed fence of quotes", { "```\n" + HostileMarkdownTests.filled("\"<>&'\n", scalars: $0 - 4) }),
        ("deep mixed nesting", { HostileMarkdownTests.filled("> - > 1. > ``` > [*`**](", scalars: $0) }),
        ("mixed lines", { HostileMarkdownTests.filled("> > > > > > > > > > - [*a*](http://x) **b** `c` <i>\n", scalars: $0) }),
        ("combining marks", { "a" + String(repeating: "\u{301}", count: $0 - 1) }),
        (
            "combining after specials",
            { HostileMarkdownTests.filled("&\u{301}<\u{301}>\u{301}\"\u{301}'\u{301}`\u{301}[\u{301}*\u{301}", scalars: $0) }
        ),
        ("HTML characters", { HostileMarkdownTests.filled("\"", scalars: $0) }),
        ("four-byte characters", { HostileMarkdownTests.filled("🙂*", scalars: $0) }),
        ("blank lines", { String(repeating: "\n", count: $0) }),
        ("carriage returns", { HostileMarkdownTests.filled("a\r", scalars: $0) }),
    ]

    @Test(arguments: hostile.map(\.name))
    func everyConstructAtTheLongestTextRendersWellFormedWithinTheCeiling(_ name: String) throws {
        let make = try #require(Self.hostile.first { $0.name == name }).make
        let source = make(Self.maxScalars)
        #expect(source.unicodeScalars.count == Self.maxScalars)
        let html = Markdown.html(source)
        #expect(html.utf8.count <= Markdown.outputLimit(forSourceBytes: source.utf8.count))
        let shape = try #require(HTMLShape(html), "\(name): not well-formed: \(html.prefix(400))")
        #expect(shape.deepestQuote <= Markdown.maxQuoteDepth, "\(name)")
        // Twice the source, at most about twice the HTML (an allowance for the fixed parts and where the ceiling cut).
        let half = Markdown.html(make(Self.maxScalars / 2))
        #expect(html.utf8.count <= 2 * half.utf8.count + 1024, "\(name): \(half.utf8.count) → \(html.utf8.count) bytes")
    }

    @Test func quotesNestEightDeepAndTheRestIsText() throws {
        let source = String(repeating: ">", count: 45_000) + " deep"
        let html = Markdown.html(source)
        #expect(html.hasPrefix(String(repeating: "<blockquote>", count: 8) + "<p>&gt;&gt;"))
        #expect(html.hasSuffix("&gt; deep</p>\n" + String(repeating: "</blockquote>\n", count: 8)))
        #expect(html.components(separatedBy: "&gt;").count - 1 == 45_000 - 8)
        #expect(try #require(HTMLShape(html)).deepestQuote == 8)
        // Up to the limit quotes still nest as before, with the line's text in the innermost one.
        #expect(
            Markdown.html("> > > a\n> b")
                == "<blockquote><blockquote><blockquote><p>a</p>\n</blockquote>\n</blockquote>\n<p>b</p>\n</blockquote>\n")
    }

    @Test func textBeyondTheCeilingStopsWellFormedWithANote() throws {
        // Each pair of lines opens and closes eight quotes: about 20 bytes of HTML per byte of source.
        let source = Self.filled(">>>>>>>>>\n\n")
        let html = Markdown.html(source)
        #expect(html.utf8.count <= Markdown.outputLimit(forSourceBytes: source.utf8.count))
        #expect(html.hasSuffix("<p><em>The rest of this text is too long to show.</em></p>\n"))
        #expect(HTMLShape(html) != nil)
        // Ordinary text never comes near it.
        #expect(!Markdown.html(Self.filled("Plain words, a **few** `marks` and [a link](https://x.test).\n")).contains("too long to show"))
    }

    @Test func theCeilingCutsBetweenCharactersAndClosesWhatIsOpen() {
        // Room for the three opening tags, the closing ones, the note and 16 bytes of text.
        var output = BoundedHTML(limit: 126)
        output.start(.quote)
        output.start(.paragraph)
        output.start(.strong)
        output.text(String(repeating: "é🙂\"", count: 50).utf8)
        let html = output.finish()
        #expect(html.utf8.count <= 126)
        #expect(!html.contains("\u{FFFD}"), "no UTF-8 sequence cut: \(html)")
        #expect(html.hasPrefix("<blockquote><p><strong>é🙂&quot;é</strong>"), "the second 🙂 did not fit whole")
        #expect(html.hasSuffix("</strong></p>\n</blockquote>\n<p><em>The rest of this text is too long to show.</em></p>\n"))
    }

    @Test func emphasisAndStrongAlwaysNest() {
        #expect(Markdown.html("*see **this** now*") == "<p><em>see <strong>this</strong> now</em></p>\n")
        #expect(Markdown.html("**bold *and* more**") == "<p><strong>bold <em>and</em> more</strong></p>\n")
        // Markers whose partners lie across a strong edge stay plain asterisks (this once wrote crossed tags).
        #expect(Markdown.html("**a*b**c*") == "<p><strong>a*b</strong>c*</p>\n")
        #expect(Markdown.html("***a***") == "<p><strong>*a</strong>*</p>\n")
    }

    @Test func linksAndCodeInRunsOfBracketsStillWork() {
        // A label runs from the first `[` to the first `]`, as it always has.
        #expect(
            Markdown.html("[[[x](https://a.test) `[` ](")
                == #"<p><a href="https://a.test" rel="nofollow noopener noreferrer">[[x</a> <code>[</code> ](</p>"# + "\n")
        #expect(
            Markdown.html("[[[ x ]]] [y](https://b.test)")
                == #"<p>[[[ x ]]] <a href="https://b.test" rel="nofollow noopener noreferrer">y</a></p>"# + "\n")
        #expect(Markdown.html("[a]( JavaScript:x )") == "<p>[a](JavaScript:x)</p>\n")
        #expect(Markdown.html("[a](http://x\u{85}y)") == "<p>[a](http://x\u{85}y)</p>\n")
    }
}

/// Render times of the hostile sources at the longest text and at half of it, printed for
/// docs/performance.md (timings are recorded, never asserted).
/// Render times for docs/performance.md, printed, never asserted; off in `make test` (it renders
/// every construct fifteen times). `PURSER_MARKDOWN_TIMINGS=1 scripts/test.sh --filter MarkdownTimings`
/// prints them for this build; docs/performance.md records an optimised build's.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PURSER_MARKDOWN_TIMINGS"] != nil))
struct MarkdownTimings {
    @Test func printRenderTimes() {
        let clock = ContinuousClock()
        let size = HostileMarkdownTests.maxScalars
        print("Markdown render times (source of \(size) scalars, then half and double it; best of 5):")
        for (name, make) in HostileMarkdownTests.hostile {
            func best(_ source: String) -> (Duration, Int) {
                var fastest = Duration.seconds(1000), bytes = 0
                for _ in 0..<5 {
                    let start = clock.now
                    bytes = Markdown.html(source).utf8.count
                    fastest = min(fastest, clock.now - start)
                }
                return (fastest, bytes)
            }
            let full = make(size)
            let (fullTime, fullSize) = best(full), (halfTime, _) = best(make(size / 2)), (doubleTime, _) = best(make(size * 2))
            let ms = { (duration: Duration) in Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000 }
            print(
                "  " + name.padding(toLength: 34, withPad: " ", startingAt: 0)
                    + String(
                        format: "%7d bytes in %8d bytes out %8.2f ms (half: %7.2f ms, double: %7.2f ms)",
                        full.utf8.count, fullSize, ms(fullTime), ms(halfTime), ms(doubleTime)))
        }
    }
}

/// What a rendered document looks like as tags: nil unless every tag is one the renderer writes,
/// attributes are only a link's, and every element is closed in order.
struct HTMLShape {
    var deepestQuote = 0

    init?(_ html: String) {
        let allowed: Set<String> = ["p", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "a"]
        var open: [String] = []
        var quotes = 0
        let bytes = Array(html.utf8)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                if bytes[index] == UInt8(ascii: ">") { return nil }
                index += 1
                continue
            }
            guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ">")) else { return nil }
            let inside = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
            index = end + 1
            if inside == "br" { continue }
            if inside.hasPrefix("/") {
                guard open.popLast() == String(inside.dropFirst()) else { return nil }
                if inside == "/blockquote" { quotes -= 1 }
                continue
            }
            let name = String(inside.prefix { $0 != " " })
            guard allowed.contains(name), !inside.contains("<") else { return nil }
            if name == "a" {
                guard inside.hasPrefix("a href=\""), inside.hasSuffix("\" rel=\"nofollow noopener noreferrer\""),
                    inside.dropFirst(8).dropLast(36).allSatisfy({ $0 != "\"" })
                else { return nil }
            } else if inside != name {
                return nil
            }
            open.append(name)
            if name == "blockquote" {
                quotes += 1
                deepestQuote = max(deepestQuote, quotes)
            }
        }
        guard open.isEmpty else { return nil }
    }
}
