// CSV (RFC 4180) for exports that people open in spreadsheets. A cell that begins with `=`, `+`,
// `-`, `@`, a tab or a carriage return is prefixed with an apostrophe, so a spreadsheet shows it
// as text instead of running it as a formula.
enum CSV {
    static func line(_ cells: [String]) -> String {
        cells.map(cell).joined(separator: ",") + "\r\n"
    }

    static func cell(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            text = "'" + text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
