// Bar charts drawn on the server as SVG: no script, nothing fetched, readable without colour (each
// bar carries its figure as text) and announced to screen readers by its title and description.
import Foundation

enum SVGChart {
    struct Series: Sendable {
        let name: String
        /// Presentation colour of the bars (an attribute, not a style, so the CSP needs no exception).
        let colour: String
    }

    /// Horizontal bars, one group per label, one bar per series, each a percentage (nil: no data).
    static func percentBars(title: String, series: [Series], groups: [(label: String, values: [Double?])]) -> String {
        let labelWidth = 140.0, barArea = 420.0, barHeight = 14.0, gap = 4.0, groupGap = 12.0
        let groupHeight = Double(series.count) * (barHeight + gap) + groupGap
        let legendHeight = 24.0
        let height = legendHeight + Double(groups.count) * groupHeight + 20
        let width = labelWidth + barArea + 60
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 \(Int(width)) \(Int(height))" \
            width="\(Int(width))" height="\(Int(height))" aria-labelledby="chart-title chart-desc">
            <title id="chart-title">\(Markdown.escape(title))</title>
            <desc id="chart-desc">\(Markdown.escape(groups.map { group in
                group.label + ": " + zip(series, group.values).map { "\($0.name) \(percent($1))" }.joined(separator: ", ")
            }.joined(separator: "; ")))</desc>

            """
        for (index, item) in series.enumerated() {
            let x = labelWidth + Double(index) * 160
            svg += """
                <rect x="\(x)" y="4" width="12" height="12" fill="\(item.colour)"/>\
                <text x="\(x + 18)" y="14" font-size="12">\(Markdown.escape(item.name))</text>

                """
        }
        for (row, group) in groups.enumerated() {
            let top = legendHeight + Double(row) * groupHeight
            svg += """
                <text x="\(labelWidth - 8)" y="\(top + barHeight)" font-size="12" text-anchor="end">\(Markdown.escape(group.label))</text>

                """
            for (index, value) in group.values.enumerated() where index < series.count {
                let y = top + Double(index) * (barHeight + gap)
                let length = max(0, min(100, value ?? 0)) / 100 * barArea
                svg += """
                    <rect x="\(labelWidth)" y="\(y)" width="\(String(format: "%.1f", length))" height="\(barHeight)" \
                    fill="\(series[index].colour)"/><text x="\(labelWidth + length + 4)" y="\(y + barHeight - 3)" \
                    font-size="11">\(percent(value))</text>

                    """
            }
        }
        let axis = labelWidth + barArea
        svg += """
            <line x1="\(labelWidth)" y1="\(legendHeight - 2)" x2="\(labelWidth)" y2="\(height - 16)" stroke="#888"/>\
            <text x="\(labelWidth)" y="\(height - 4)" font-size="10">0 %</text>\
            <text x="\(axis)" y="\(height - 4)" font-size="10" text-anchor="end">100 %</text>
            </svg>
            """
        return svg
    }

    static func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", $0) } ?? "no data" }
}
