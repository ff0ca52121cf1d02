// Reads AWS's binary event stream (application/vnd.amazon.eventstream), as SageMaker's
// InvokeEndpointWithResponseStream answers, piece by piece as it arrives: each message is a
// prelude (total and header lengths, CRC-32), headers, a payload and a CRC-32 of the whole. A
// `PayloadPart` event with bytes is one streamed piece of the model's output (the first is the
// first token); an exception or error message is the stream's error. A message whose checksums
// do not match ends the reading as an error.
import Foundation

struct EventStreamReader {
    private var pending: [UInt8] = []
    private(set) var parts = 0
    private(set) var firstPartAt: Date?
    private(set) var streamedError: String?

    mutating func feed(_ bytes: [UInt8], at: Date) {
        pending.append(contentsOf: bytes)
        while pending.count >= 16, streamedError == nil {
            let total = Int(Self.word(pending, 0)), headersLength = Int(Self.word(pending, 4))
            guard total >= 16 + headersLength, total <= 16 << 20 else {
                streamedError = "a malformed event-stream message"
                return
            }
            guard pending.count >= total else { return }
            let message = Array(pending[0..<total])
            pending.removeSubrange(0..<total)
            guard Self.crc32(message[0..<8]) == Self.word(message, 8), Self.crc32(message[0..<(total - 4)]) == Self.word(message, total - 4)
            else {
                streamedError = "an event-stream message failed its checksum"
                return
            }
            let headers = Self.headers(message[12..<(12 + headersLength)])
            let payload = message[(12 + headersLength)..<(total - 4)]
            switch headers[":message-type"] {
            case "event" where headers[":event-type"] == "PayloadPart":
                guard !payload.isEmpty else { continue }
                parts += 1
                if firstPartAt == nil { firstPartAt = at }
            case "exception", "error":
                let name = headers[":exception-type"] ?? headers[":error-code"] ?? "error"
                streamedError = "\(name): " + String(decoding: payload.prefix(200), as: UTF8.self)
            default: continue
            }
        }
    }

    static func word(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// String headers by name; other header types are skipped by their sizes.
    static func headers(_ bytes: ArraySlice<UInt8>) -> [String: String] {
        var found: [String: String] = [:]
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let nameLength = Int(bytes[index])
            index += 1
            guard index + nameLength < bytes.endIndex else { break }
            let name = String(decoding: bytes[index..<(index + nameLength)], as: UTF8.self)
            index += nameLength
            let type = bytes[index]
            index += 1
            let fixed: [UInt8: Int] = [0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16]
            if let size = fixed[type] {
                index += size
                continue
            }
            guard type == 6 || type == 7, index + 2 <= bytes.endIndex else { break }
            let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
            index += 2
            guard index + length <= bytes.endIndex else { break }
            if type == 7 { found[name] = String(decoding: bytes[index..<(index + length)], as: UTF8.self) }
            index += length
        }
        return found
    }

    static let table: [UInt32] = (0..<256).map { entry in
        (0..<8).reduce(UInt32(entry)) { value, _ in value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
    }

    /// CRC-32 (IEEE), as the event stream's prelude and message checksums are.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
}
