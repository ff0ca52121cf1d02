// Reads a batch of usage events from a request body: NDJSON (one object a line; a bad line is
// rejected by its number and its neighbours go on) or a JSON array (a syntax error anywhere makes
// the whole array unreadable, so the batch is refused naming the element). Both are one pass over
// the bytes with caps on the line, the fields and the values (UsageRecordParser), and on the count.
import Foundation

/// One item of a batch: where it was (a JSON array's index from 0, a line's number from 1) and its
/// fields, or why it could not be read.
struct UsageItem: Sendable {
    let position: Int
    let record: Result<UsageRecord, UsageParseError>
}

/// More events than one call may carry (413).
struct UsageBatchTooLarge: DomainError, Equatable {
    let limit: Int
    var refusal: Refusal { .tooLarge }
    var detail: String? { "A batch holds at most \(limit) events; send the rest in another call." }
}

/// A body that cannot be read as a batch at all (422), naming where.
struct UsageBatchUnreadable: DomainError, Equatable {
    let detail: String?
    var refusal: Refusal { .invalid }
    var headline: String? { "Unreadable batch" }
}

enum NDJSONUsageParser {
    static let maxEvents = 10_000
    static let maxLineBytes = 16 * 1024

    /// NDJSON: blank lines are skipped (but counted, so numbers match the caller's editor).
    static func lines(_ body: [UInt8], maxEvents: Int = maxEvents) throws -> [UsageItem] {
        var items: [UsageItem] = []
        try body.withUnsafeBufferPointer { bytes in
            var lineStart = startAfterByteOrderMark(bytes)
            var number = 0
            while lineStart < bytes.count {
                number += 1
                var lineEnd = lineStart
                while lineEnd < bytes.count, bytes[lineEnd] != 10 { lineEnd += 1 }
                let next = lineEnd + 1
                var end = lineEnd
                if end > lineStart, bytes[end - 1] == 13 { end -= 1 }
                var index = lineStart
                UsageRecordParser.skipSpace(bytes, &index, end: end)
                if index < end {
                    guard items.count < maxEvents else { throw UsageBatchTooLarge(limit: maxEvents) }
                    if end - lineStart > maxLineBytes {
                        items.append(
                            UsageItem(position: number, record: .failure(UsageParseError("the line is longer than \(maxLineBytes) bytes"))))
                    } else {
                        items.append(
                            UsageItem(
                                position: number,
                                record: Result { () throws(UsageParseError) in
                                    let record = try UsageRecordParser.object(bytes, &index, end: end)
                                    UsageRecordParser.skipSpace(bytes, &index, end: end)
                                    guard index == end else { throw UsageParseError("text after the object") }
                                    return record
                                }))
                    }
                }
                lineStart = next
            }
        }
        return items
    }

    /// Where the text begins: after the UTF-8 byte-order mark that some editors and Windows tools
    /// write (JSON parsers may ignore one, RFC 8259 §8.1), which would make line 1 or the array unreadable.
    static func startAfterByteOrderMark(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }

    /// A JSON array of objects; index from 0.
    static func array(_ body: [UInt8], maxEvents: Int = maxEvents) throws -> [UsageItem] {
        var items: [UsageItem] = []
        try body.withUnsafeBufferPointer { bytes in
            let end = bytes.count
            var index = startAfterByteOrderMark(bytes)
            UsageRecordParser.skipSpace(bytes, &index, end: end)
            guard index < end, bytes[index] == UInt8(ascii: "[") else {
                throw UsageBatchUnreadable(detail: "Send a JSON array of events, or NDJSON as application/x-ndjson.")
            }
            index += 1
            UsageRecordParser.skipSpace(bytes, &index, end: end)
            if index < end, bytes[index] == UInt8(ascii: "]") {
                index += 1
            } else {
                while true {
                    guard items.count < maxEvents else { throw UsageBatchTooLarge(limit: maxEvents) }
                    do throws(UsageParseError) {
                        items.append(
                            UsageItem(position: items.count, record: .success(try UsageRecordParser.object(bytes, &index, end: end))))
                    } catch {
                        throw UsageBatchUnreadable(detail: "Element \(items.count) (from 0): \(error.message).")
                    }
                    UsageRecordParser.skipSpace(bytes, &index, end: end)
                    guard index < end else { throw UsageBatchUnreadable(detail: "The array is not closed.") }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard bytes[index] == UInt8(ascii: "]") else {
                        throw UsageBatchUnreadable(detail: "Expected ',' or ']' after element \(items.count - 1).")
                    }
                    index += 1
                    break
                }
            }
            UsageRecordParser.skipSpace(bytes, &index, end: end)
            guard index == end else { throw UsageBatchUnreadable(detail: "Text after the array.") }
        }
        return items
    }
}
