// The cost report as CSV, one line per row and one per currency's total: amounts as plain decimals
// of the currency (from micro-units, exact), counts as integers, so a spreadsheet sums them back to
// the figures on the page.
import Foundation

enum CostReportCSV {
    static func text(_ report: CostReport) -> String {
        let query = report.query
        var text = CSV.line(
            [
                query.groupBy.rawValue, query.thenBy?.rawValue ?? "", "currency", "cost", "requests", "input_tokens", "output_tokens",
                "cached_input_tokens", "cost_per_request", "cost_per_1k_tokens", "cache_hit_share", "gpu_hours", "gpu_cost",
                "unpriced_events",
            ].filter { !$0.isEmpty })
        func cells(_ key: String, _ subKey: String?, _ currency: String, _ figures: CostReport.Figures) -> [String] {
            var cells = [key]
            if query.thenBy != nil { cells.append(subKey ?? "") }
            cells.append(currency)
            cells.append(Money.decimal(figures.costMicros, grouping: false))
            cells.append(String(figures.requests))
            cells.append(String(figures.inputTokens))
            cells.append(String(figures.outputTokens))
            cells.append(String(figures.cachedInputTokens))
            cells.append(figures.costPerRequest.map { Money.decimal($0, grouping: false) } ?? "")
            cells.append(figures.costPer1kTokens.map { Money.decimal($0, grouping: false) } ?? "")
            cells.append(
                figures.inputTokens + figures.cachedInputTokens == 0 ? "" : figures.cacheHitShare.replacingOccurrences(of: " %", with: ""))
            cells.append(figures.gpuHours)
            cells.append(Money.decimal(figures.gpuCostMicros, grouping: false))
            cells.append(String(figures.unpricedEvents))
            return cells
        }
        for row in report.rows { text += CSV.line(cells(row.key, row.subKey, row.currency, row.figures)) }
        for total in report.totals { text += CSV.line(cells("total", "", total.currency, total.figures)) }
        return text
    }
}
