import Foundation
@testable import Purser
import Testing

/// The request Markdown subset: what it renders, and that no source can produce markup of its own.
@Suite struct MarkdownTests {
    @Test func theSubsetRenders() {
        let html = Markdown.html(
            """
            p95 is **over 2 s** since *09:00*, see `latency_p95`.
            Second line.

            - first
            - [dashboard](https://grafana.bank.test/d/1)

            1. one
            2. two

            > quoted *text*

            ```
            if a < b { print("x") }
            ```
            """)
        #expect(
            html.contains("<p>p95 is <strong>over 2 s</strong> since <em>09:00</em>, see <code>latency_p95</code>.<br>Second line.</p>"))
        #expect(
            html.contains(
                #"<ul><li>first</li><li><a href="https://grafana.bank.test/d/1" rel="nofollow noopener noreferrer">dashboard</a></li></ul>"#
            ))
        #expect(html.contains("<ol><li>one</li><li>two</li></ol>"))
        #expect(html.contains("<blockquote><p>quoted <em>text</em></p>\n</blockquote>"))
        #expect(html.contains("<pre><code>if a &lt; b { print(&quot;x&quot;) }</code></pre>"))
    }

    @Test func nothingInTheSourceBecomesMarkup() {
        let attacks = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            #"[x](https://a.test/" onmouseover="alert(1))"#,
            "`<b>` **<i>bold</i>**",
            "> <iframe src=https://evil.test>",
            "- <svg onload=alert(1)>",
            "[a](https://ok.test/\u{0}x)",
        ]
        for source in attacks {
            let html = Markdown.html(source)
            // Event handlers may appear as text; they can only act inside a tag, and no tag but the renderer's exists.
            for forbidden in ["<script", "<img", "<iframe", "<svg", "<i>", "<b>", "href=\"javascript", "href=\"data", "\" on"] {
                #expect(!html.lowercased().contains(forbidden), "\(source) → \(html)")
            }
            // The only tags are the renderer's own.
            let tags = html.components(separatedBy: "<").dropFirst().map { $0.prefix { $0 != ">" && $0 != " " } }
            #expect(
                tags.allSatisfy {
                    [
                        "p", "/p", "em", "/em", "strong", "/strong", "code", "/code", "pre", "/pre", "ul", "/ul",
                        "ol", "/ol", "li", "/li", "blockquote", "/blockquote", "a", "/a", "br",
                    ].contains(String($0))
                },
                "\(source) → \(html)")
        }
        #expect(Markdown.html("[click](javascript:alert(1))").contains("[click](javascript:alert(1)"))
        #expect(!Markdown.html(#"[x](https://a.test/" onmouseover="alert(1))"#).contains("href"))
    }
}
