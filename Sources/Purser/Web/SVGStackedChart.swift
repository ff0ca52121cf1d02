// Stacked bars over a time axis, drawn on the server as SVG (daily spend by model, say): one column
// per day, one segment per series, a value axis with round gridlines and a time axis labelled at
// month starts or weekly. Like the percentage bars: no script, no style attribute, each segment
// carrying its exact figure as a <title>, and the whole announced by its title and description.
import Foundation

extension SVGChart {
    /// One column: its day (shown on the time axis) and a value per series (integers, e.g. micro-units).
    struct Column: Sendable {
        let day: LocalDate
        let values: [Int64]
    }

    /// `format` writes a value exactly (money from micro-units); geometry alone uses floating point.
    static func stackedBars(
        title: String, series: [Series], columns: [Column], format: (Int64) -> String, id: String = "stacked"
    ) -> String {
        let left = 90.0, right = 12.0, top = 12.0, plotHeight = 220.0, axisHeight = 36.0
        let step = max(6.0, min(28.0, 640.0 / Double(max(columns.count, 1))))
        let plotWidth = step * Double(columns.count)
        let legendRows = (series.count + 3) / 4
        let width = left + plotWidth + right
        let height = top + plotHeight + axisHeight + Double(legendRows) * 18 + 8
        let totals = columns.map { $0.values.reduce(0) { $0 + max($1, 0) } }
        let ceiling = niceCeiling(totals.max() ?? 0)
        func y(_ value: Int64) -> Double { top + plotHeight - Double(value) / Double(ceiling) * plotHeight }
        func fixed(_ value: Double) -> String { String(format: "%.1f", value) }

        let description = columns.enumerated().map { index, column in
            "\(column.day): " + format(totals[index])
        }.joined(separator: "; ")
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 \(Int(width)) \(Int(height))" \
            width="\(Int(width))" height="\(Int(height))" aria-labelledby="\(id)-title \(id)-desc">
            <title id="\(id)-title">\(Markdown.escape(title))</title>
            <desc id="\(id)-desc">\(Markdown.escape(description))</desc>

            """
        // Value axis: four gridlines at round values.
        for tick in 0...4 {
            let value = ceiling * Int64(tick) / 4
            let at = y(value)
            svg += """
                <line x1="\(fixed(left))" y1="\(fixed(at))" x2="\(fixed(left + plotWidth))" y2="\(fixed(at))" stroke="#ddd"/>\
                <text x="\(fixed(left - 6))" y="\(fixed(at + 4))" font-size="10" text-anchor="end">\(Markdown.escape(format(value)))</text>

                """
        }
        // Bars: segments from the bottom up, in series order.
        for (index, column) in columns.enumerated() {
            let x = left + Double(index) * step + 1
            var base: Int64 = 0
            for (part, value) in column.values.enumerated() where value > 0 && part < series.count {
                let (low, high) = (y(base), y(base + value))
                svg += """
                    <rect class="bar" x="\(fixed(x))" y="\(fixed(high))" width="\(fixed(step - 2))" height="\(fixed(max(low - high, 0.5)))" \
                    fill="\(series[part].colour)"><title>\(column.day) · \(Markdown.escape(series[part].name)): \
                    \(Markdown.escape(format(value)))</title></rect>

                    """
                base += value
            }
        }
        // Time axis: the first day, each month's first, and (for short periods) each Monday.
        let axisY = top + plotHeight
        svg += """
            <line x1="\(fixed(left))" y1="\(fixed(axisY))" x2="\(fixed(left + plotWidth))" y2="\(fixed(axisY))" stroke="#888"/>

            """
        var lastLabel = -100.0
        for (index, column) in columns.enumerated() {
            let x = left + Double(index) * step + step / 2
            let monthStart = column.day.day == 1
            let weekly = columns.count <= 62 && column.day.isMonday
            guard index == 0 || monthStart || weekly, x - lastLabel >= 48 else { continue }
            lastLabel = x
            let label = monthStart || index == 0 ? column.day.shortMonth + " " + String(column.day.day) : String(column.day.day)
            svg += """
                <line x1="\(fixed(x))" y1="\(fixed(axisY))" x2="\(fixed(x))" y2="\(fixed(axisY + 4))" stroke="#888"/>\
                <text class="tick" x="\(fixed(x))" y="\(fixed(axisY + 16))" font-size="10" text-anchor="middle">\(label)</text>

                """
        }
        // Legend.
        for (index, item) in series.enumerated() {
            let x = left + Double(index % 4) * 150
            let legendY = axisY + axisHeight + Double(index / 4) * 18
            svg += """
                <rect x="\(fixed(x))" y="\(fixed(legendY - 10))" width="12" height="12" fill="\(item.colour)"/>\
                <text x="\(fixed(x + 18))" y="\(fixed(legendY))" font-size="12">\(Markdown.escape(String(item.name.prefix(22))))</text>

                """
        }
        return svg + "</svg>"
    }

    /// The smallest 1, 2, 4, 5 or 8 × 10ⁿ at or above `value` (four gridlines then fall on round values).
    static func niceCeiling(_ value: Int64) -> Int64 {
        guard value > 0 else { return 4 }
        var magnitude: Int64 = 1
        while magnitude <= value / 10 { magnitude *= 10 }
        for factor in [1, 2, 4, 5, 8] as [Int64] where factor * magnitude >= value { return factor * magnitude }
        return magnitude * 10
    }

    /// Colours for up to eight series and "other", distinguishable by people with the common colour
    /// vision deficiencies (Okabe–Ito), in order.
    static let palette = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000", "#999999"]
}

extension LocalDate {
    var isMonday: Bool {
        let utc = TimeZone(identifier: "UTC")!
        return LocalDate.calendar(utc).component(.weekday, from: start(in: utc)) == 2
    }

    var shortMonth: String {
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1]
    }
}
