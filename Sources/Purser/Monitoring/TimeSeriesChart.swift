// Time series drawn on the server as SVG, like the other charts (Web/SVGChart.swift): no script,
// presentation attributes only (the CSP needs no exception), a title and a description that reads
// the figures to screen readers, and each point's value in its <title>.
import Foundation

enum TimeSeriesChart {
    struct Point: Sendable {
        let at: Date
        let value: Double?
    }

    /// A line of `points` from `from` to `to`; gaps (nil) break the line. `floor`/`ceiling` fix the
    /// vertical scale (nil: from the data).
    static func line(
        title: String, unit: String, points: [Point], from: Date, to: Date, floor: Double? = nil, ceiling: Double? = nil,
        objective: Double? = nil
    ) -> String {
        let width = 640.0, height = 180.0, left = 56.0, right = 12.0, top = 12.0, bottom = 28.0
        let values = points.compactMap(\.value) + (objective.map { [$0] } ?? [])
        let low = floor ?? (values.min() ?? 0)
        var high = ceiling ?? (values.max() ?? 1)
        if high <= low { high = low + 1 }
        let span = max(to.timeIntervalSince(from), 1)
        func x(_ date: Date) -> Double { left + (date.timeIntervalSince(from) / span) * (width - left - right) }
        func y(_ value: Double) -> Double { top + (1 - (value - low) / (high - low)) * (height - top - bottom) }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        let shown = points.compactMap { point in point.value.map { (point.at, $0) } }
        let described =
            shown.isEmpty
            ? "no data"
            : "from \(DisplayTime.format(shown.first!.0)) to \(DisplayTime.format(shown.last!.0)), lowest \(format(values.min() ?? 0, unit)), highest \(format(values.max() ?? 0, unit))"
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 \(Int(width)) \(Int(height))" \
            width="\(Int(width))" height="\(Int(height))" aria-label="\(Markdown.escape(title))">
            <title>\(Markdown.escape(title))</title><desc>\(Markdown.escape(described))</desc>
            <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(height - bottom)" stroke="#888"/>\
            <line x1="\(left)" y1="\(height - bottom)" x2="\(width - right)" y2="\(height - bottom)" stroke="#888"/>\
            <text x="\(left - 4)" y="\(top + 8)" font-size="10" text-anchor="end">\(Markdown.escape(format(high, unit)))</text>\
            <text x="\(left - 4)" y="\(height - bottom)" font-size="10" text-anchor="end">\(Markdown.escape(format(low, unit)))</text>\
            <text x="\(left)" y="\(height - 8)" font-size="10">\(Markdown.escape(DisplayTime.format(from)))</text>\
            <text x="\(width - right)" y="\(height - 8)" font-size="10" text-anchor="end">\(Markdown.escape(DisplayTime.format(to)))</text>

            """
        if let objective {
            svg += """
                <line x1="\(left)" y1="\(number(y(objective)))" x2="\(width - right)" y2="\(number(y(objective)))" stroke="#b35900" \
                stroke-dasharray="4 3"><title>objective \(Markdown.escape(format(objective, unit)))</title></line>

                """
        }
        var segment: [String] = []
        func flush() {
            if segment.count > 1 {
                svg += "<polyline fill=\"none\" stroke=\"#1f5f99\" stroke-width=\"1.5\" points=\"\(segment.joined(separator: " "))\"/>\n"
            }
            segment.removeAll()
        }
        for point in points {
            guard let value = point.value else {
                flush()
                continue
            }
            segment.append("\(number(x(point.at))),\(number(y(value)))")
            svg += """
                <circle cx="\(number(x(point.at)))" cy="\(number(y(value)))" r="1.8" fill="#1f5f99"><title>\
                \(Markdown.escape(DisplayTime.format(point.at))): \(Markdown.escape(format(value, unit)))</title></circle>

                """
        }
        flush()
        return svg + "</svg>"
    }

    static func format(_ value: Double, _ unit: String) -> String {
        unit == "%" ? String(format: "%.2f %%", value) : String(format: "%.0f %@", value, unit)
    }

    /// One square per day (oldest first): green at or above the objective, amber below, red below
    /// 95 %, grey without counted probes; each square's figure in its title.
    static func days(title: String, days: [(label: String, uptime: Double?)], objective: Double) -> String {
        let size = 6.0, gap = 1.0, width = Double(days.count) * (size + gap), height = 24.0
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart status-days" role="img" viewBox="0 0 \(Int(width)) \(Int(height))" \
            width="\(Int(width * 1.0))" height="\(Int(height))" aria-label="\(Markdown.escape(title))">
            <title>\(Markdown.escape(title))</title>

            """
        for (index, day) in days.enumerated() {
            let colour =
                day.uptime.map { $0 >= objective ? "#2e7d32" : $0 >= 95 ? "#c77c02" : "#c62828" } ?? "#bdbdbd"
            svg += """
                <rect x="\(Double(index) * (size + gap))" y="0" width="\(size)" height="\(height)" fill="\(colour)"><title>\
                \(Markdown.escape(day.label)): \(Markdown.escape(day.uptime.map { String(format: "%.2f %%", $0) } ?? "no data"))</title></rect>

                """
        }
        return svg + "</svg>"
    }
}
