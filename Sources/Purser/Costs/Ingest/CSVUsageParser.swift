// Reads usage events from a CSV upload: a header of known field names, then one event a line.
// A wrong header refuses the file, naming the column; a bad line is rejected by its number and its
// neighbours go on. One pass, line by line: a quoted cell may hold commas and doubled quotes but
// not a line break, so every error names one line; caps as for NDJSON.
import Foundation

/// A header that does not describe usage events (422), naming the column.
struct UsageCSVHeaderError: DomainError, Equatable {
    let detail: String?
    var refusal: Refusal { .invalid }
    var headline: String? { "Wrong CSV header" }
}

enum CSVUsageParser {
    static func lines(_ body: [UInt8], maxEvents: Int = NDJSONUsageParser.maxEvents) throws -> [UsageItem] {
        var items: [UsageItem] = []
        var header: [String]?
        var number = 0
        var lineStart = 0
        var bytes = body[...]
        // A byte-order mark some spreadsheets write.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        lineStart = bytes.startIndex
        while lineStart < bytes.endIndex {
            number += 1
            var lineEnd = lineStart
            while lineEnd < bytes.endIndex, bytes[lineEnd] != 10 { lineEnd += 1 }
            var end = lineEnd
            if end > lineStart, bytes[end - 1] == 13 { end -= 1 }
            let line = bytes[lineStart..<end]
            lineStart = lineEnd + 1
            if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            guard let columns = header else {
                // A spreadsheet saving with its locale's separator: say so, not "one unknown column".
                if !line.contains(UInt8(ascii: ",")),
                    let separator = line.contains(UInt8(ascii: ";")) ? "semicolons" : line.contains(9) ? "tabs" : nil
                {
                    throw UsageCSVHeaderError(
                        detail:
                            "Line \(number): the header's columns are separated by \(separator); the separator must be a comma (event_id,occurred_at,…)."
                    )
                }
                guard line.count <= NDJSONUsageParser.maxLineBytes, case .success(let cells) = split(line) else {
                    throw UsageCSVHeaderError(detail: "Line \(number): the header cannot be read as CSV.")
                }
                header = try checkHeader(cells, line: number)
                continue
            }
            guard items.count < maxEvents else { throw UsageBatchTooLarge(limit: maxEvents) }
            guard line.count <= NDJSONUsageParser.maxLineBytes else {
                items.append(
                    UsageItem(
                        position: number,
                        record: .failure(UsageParseError("the line is longer than \(NDJSONUsageParser.maxLineBytes) bytes"))))
                continue
            }
            let record = split(line).flatMap { cells -> Result<UsageRecord, UsageParseError> in
                guard cells.count == columns.count else {
                    return .failure(UsageParseError("\(cells.count) cells where the header has \(columns.count)"))
                }
                var record: UsageRecord = []
                for (name, cell) in zip(columns, cells) where !cell.isEmpty { record.append((name, .text(cell))) }
                return .success(record)
            }
            items.append(UsageItem(position: number, record: record))
        }
        guard header != nil else { throw UsageCSVHeaderError(detail: "The file is empty: it needs a header line.") }
        return items
    }

    /// The header's names, each a field of an event, none twice, with the required ones.
    static func checkHeader(_ cells: [String], line: Int) throws -> [String] {
        let names = cells.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var seen = Set<String>()
        for name in names {
            guard UsageRules.fields.contains(name) else {
                throw UsageCSVHeaderError(
                    detail:
                        "Line \(line): '\(name.prefix(64))' is not a usage field; the columns are \(UsageRules.fields.sorted().joined(separator: ", "))."
                )
            }
            guard seen.insert(name).inserted else { throw UsageCSVHeaderError(detail: "Line \(line): '\(name)' appears twice.") }
        }
        for required in ["event_id", "occurred_at"] where !seen.contains(required) {
            throw UsageCSVHeaderError(detail: "Line \(line): the header has no '\(required)' column.")
        }
        return names
    }

    /// Cells of one line: commas between, quotes around a cell that holds commas or quotes ("" is one quote).
    static func split(_ line: ArraySlice<UInt8>) -> Result<[String], UsageParseError> {
        var cells: [String] = []
        var cell = [UInt8]()
        var index = line.startIndex
        var quoted = false
        var atCellStart = true
        func finish() -> UsageParseError? {
            guard cells.count < UsageRecordParser.maxFields else {
                return UsageParseError("more than \(UsageRecordParser.maxFields) cells")
            }
            guard cell.count <= UsageRecordParser.maxValueBytes else {
                return UsageParseError("cell \(cells.count + 1) is longer than \(UsageRecordParser.maxValueBytes) bytes")
            }
            guard !cell.contains(0), let text = String(validating: cell, as: UTF8.self) else {
                return UsageParseError("cell \(cells.count + 1) is not valid UTF-8 text")
            }
            cells.append(UsageRules.trimmed(text))
            cell.removeAll(keepingCapacity: true)
            atCellStart = true
            return nil
        }
        while index < line.endIndex {
            let byte = line[index]
            index += 1
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index < line.endIndex, line[index] == UInt8(ascii: "\"") {
                        cell.append(byte)
                        index += 1
                    } else {
                        quoted = false
                        // Only spaces may follow a closing quote before the comma.
                        while index < line.endIndex, line[index] == 32 { index += 1 }
                        if index < line.endIndex, line[index] != UInt8(ascii: ",") {
                            return .failure(UsageParseError("text after a closing quote in cell \(cells.count + 1)"))
                        }
                    }
                } else {
                    cell.append(byte)
                }
            } else if byte == UInt8(ascii: ",") {
                if let error = finish() { return .failure(error) }
            } else if byte == UInt8(ascii: "\"") && atCellStart && cell.allSatisfy({ $0 == 32 }) {
                cell.removeAll()
                quoted = true
                atCellStart = false
            } else {
                cell.append(byte)
                atCellStart = false
            }
        }
        if quoted { return .failure(UsageParseError("cell \(cells.count + 1) opens a quote it does not close on this line")) }
        if let error = finish() { return .failure(error) }
        return .success(cells)
    }
}
