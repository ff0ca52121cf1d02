// Mail kept instead of sent: `purser dev` without SMTP_URL hands every message to a MailCatcher,
// which keeps the last few hundred in memory for the development mail pages (DevMailPages). The
// reader shows a message as its recipient would see it: the headers decoded (RFC 2047 words), and
// the text and HTML parts of a multipart message with their transfer encodings undone. It is meant
// for the messages MailComposer writes, but reads anything without failing: sizes, parts and
// nesting are bounded, and what it cannot decode is shown as it came.
import Foundation
import Logging

/// Keeps the messages handed to it, newest last, up to `capacity` of them.
public final class MailCatcher: MailSender, @unchecked Sendable {
    /// One message as it was handed over.
    public struct Kept: Sendable {
        /// 1, 2, 3 … in order of arrival, for the message's page.
        public let id: Int
        /// When it arrived, by the World's clock.
        public let arrived: Date
        /// The envelope: who it is from and whom it goes to, as the sender gave them.
        public let sender: String
        public let recipients: [String]
        /// The whole message, headers and all (RFC 5322, CRLF line ends).
        public let raw: [UInt8]

        /// The message as its recipient would see it.
        public var read: ReadMail { ReadMail(raw) }
    }

    public let capacity: Int
    private let clock: any WallClock
    private let logger: Logger?
    private let lock = NSLock()
    private var kept: [Kept] = []
    private var lastID = 0

    /// `logger`: each message kept is logged with the page that shows it.
    public init(clock: any WallClock, capacity: Int = 300, logger: Logger? = nil) {
        precondition(capacity > 0, "a catcher keeps at least one message")
        self.clock = clock
        self.capacity = capacity
        self.logger = logger
    }

    public func send(_ message: [UInt8], from sender: String, to recipients: [String]) throws {
        let arrived = clock.now
        let message = lock.withLock {
            lastID += 1
            let message = Kept(id: lastID, arrived: arrived, sender: sender, recipients: recipients, raw: message)
            kept.append(message)
            if kept.count > capacity { kept.removeFirst(kept.count - capacity) }
            return message
        }
        logger?.info(
            "mail kept, not sent (no SMTP_URL)",
            metadata: [
                "to": .string(recipients.joined(separator: ", ")), "subject": .string(message.read.subject),
                "page": .string(SiteURL.devMailMessage(message.id).path),
            ])
    }

    /// The messages kept, newest first.
    public var messages: [Kept] { lock.withLock { kept.reversed() } }

    /// One message, while it is kept.
    public func message(_ id: Int) -> Kept? {
        lock.withLock { kept.first { $0.id == id } }
    }
}

/// A message read for display: decoded headers, the text part and the HTML part.
public struct ReadMail: Sendable, Equatable {
    public var subject = ""
    public var from = ""
    public var to = ""
    /// The Date header as written.
    public var date = ""
    public var text: String?
    public var html: String?

    /// Reads at most this much of a message; anything longer is cut.
    static let byteLimit = 4 << 20
    static let headerLimit = 200
    static let partLimit = 50
    static let depthLimit = 4

    public init(_ raw: [UInt8]) {
        let entity = MIMEEntity(raw.prefix(Self.byteLimit))
        subject = EncodedWords.decode(entity.header("subject") ?? "")
        from = EncodedWords.decode(entity.header("from") ?? "")
        to = EncodedWords.decode(entity.header("to") ?? "")
        date = entity.header("date") ?? ""
        var parts = 0
        collect(entity, depth: 0, parts: &parts)
    }

    /// The first text/plain and text/html leaves, depth first; a message without a Content-Type is text.
    private mutating func collect(_ entity: MIMEEntity, depth: Int, parts: inout Int) {
        let type = MIMEEntity.ContentType(entity.header("content-type") ?? "text/plain")
        if type.media.hasPrefix("multipart/") {
            guard depth < Self.depthLimit, let boundary = type.parameters["boundary"], !boundary.isEmpty else { return }
            for part in MIMEEntity.parts(of: entity.body, boundary: boundary) {
                parts += 1
                if parts > Self.partLimit { return }
                collect(MIMEEntity(part), depth: depth + 1, parts: &parts)
            }
            return
        }
        let disposition = entity.header("content-disposition")?.lowercased() ?? ""
        guard !disposition.hasPrefix("attachment") else { return }
        switch type.media {
        case "text/plain" where text == nil: text = entity.decodedText(charset: type.parameters["charset"])
        case "text/html" where html == nil: html = entity.decodedText(charset: type.parameters["charset"])
        default: break
        }
    }

    /// The http(s) addresses in the text part, in order, each once: the links the message offers.
    public var links: [String] {
        var seen: [String] = []
        for word in (text ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "<" || $0 == ">" }) {
            let word = String(word)
            guard word.hasPrefix("https://") || word.hasPrefix("http://"), !seen.contains(word) else { continue }
            seen.append(word)
            if seen.count == 20 { break }
        }
        return seen
    }
}

/// One entity of a message: its headers (unfolded, names in lower case) and its body.
struct MIMEEntity {
    var headers: [(name: String, value: String)] = []
    var body: ArraySlice<UInt8> = []

    init(_ bytes: ArraySlice<UInt8>) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            var line = bytes[index..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            index = end < bytes.endIndex ? end + 1 : end
            if line.isEmpty {
                body = bytes[index...]
                return
            }
            if line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t") {
                // A folded line continues the header before it.
                if !headers.isEmpty {
                    headers[headers.count - 1].value += " " + Self.trimmed(String(decoding: line, as: UTF8.self))
                }
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")), headers.count < ReadMail.headerLimit {
                headers.append(
                    (
                        Self.trimmed(String(decoding: line[..<colon], as: UTF8.self)).lowercased(),
                        Self.trimmed(String(decoding: line[(colon + 1)...], as: UTF8.self))
                    ))
            }
        }
        // No blank line: all headers, no body.
    }

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The body with its transfer encoding undone, in its charset.
    func decodedText(charset: String?) -> String {
        let bytes: [UInt8]
        switch (header("content-transfer-encoding") ?? "").lowercased() {
        case "base64": bytes = Self.base64(body) ?? Array(body)
        case "quoted-printable": bytes = Self.quotedPrintable(body)
        default: bytes = Array(body)
        }
        return Self.text(bytes, charset: charset)
    }

    static func text(_ bytes: [UInt8], charset: String?) -> String {
        switch charset?.lowercased() {
        case "iso-8859-1", "latin1", "iso_8859-1":
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default:
            // UTF-8, US-ASCII, and anything else: undecodable bytes become U+FFFD.
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static func base64(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var letters = bytes.filter { $0 > 0x20 && $0 != UInt8(ascii: "=") }
        letters.append(contentsOf: Array(repeating: UInt8(ascii: "="), count: (4 - letters.count % 4) % 4))
        return Data(base64Encoded: Data(letters)).map(Array.init)
    }

    static func quotedPrintable(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "=") else {
                out.append(byte)
                index += 1
                continue
            }
            let rest = bytes[(index + 1)...]
            if rest.starts(with: [13, 10]) {
                index += 3  // a soft line break
            } else if rest.first == 10 {
                index += 2
            } else if rest.count >= 2, let high = hex(rest[rest.startIndex]), let low = hex(rest[rest.startIndex + 1]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces) }

    /// The parts of a multipart body: what lies between its `--boundary` lines, up to `--boundary--`.
    static func parts(of body: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<UInt8>] = []
        var start: Int?
        var index = body.startIndex
        while index < body.endIndex {
            let end = body[index...].firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
            var line = body[index..<end]
            while let last = line.last, last == 13 || last == 32 || last == 9 { line = line.dropLast() }
            if line.starts(with: delimiter) {
                let tail = line.dropFirst(delimiter.count)
                if tail.isEmpty || tail.elementsEqual("--".utf8) {
                    if let start {
                        // The line break before a delimiter belongs to the delimiter.
                        var stop = index
                        if stop > start, body[stop - 1] == 10 { stop -= 1 }
                        if stop > start, body[stop - 1] == 13 { stop -= 1 }
                        parts.append(body[start..<stop])
                        if parts.count >= ReadMail.partLimit { return parts }
                    }
                    if !tail.isEmpty { return parts }
                    start = end < body.endIndex ? end + 1 : end
                }
            }
            index = end < body.endIndex ? end + 1 : end
        }
        return parts
    }

    /// A Content-Type: the media type in lower case and its parameters (names in lower case, values unquoted).
    struct ContentType {
        var media: String
        var parameters: [String: String] = [:]

        init(_ value: String) {
            var fields: [String] = []
            var current = ""
            var quoted = false
            for character in value {
                if character == "\"" { quoted.toggle() }
                if character == ";" && !quoted {
                    fields.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            fields.append(current)
            media = MIMEEntity.trimmed(fields[0]).lowercased()
            for field in fields.dropFirst().prefix(20) {
                guard let equals = field.firstIndex(of: "=") else { continue }
                var value = MIMEEntity.trimmed(String(field[field.index(after: equals)...]))
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                parameters[MIMEEntity.trimmed(String(field[..<equals])).lowercased()] = value
            }
        }
    }
}

/// RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`) in a header, decoded; whitespace
/// between two encoded words is dropped, as the RFC says. A word that does not decode stays as written.
enum EncodedWords {
    static func decode(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var result = ""
        var rest = Substring(value)
        var pendingSpace = ""
        var afterWord = false
        var words = 0
        while !rest.isEmpty {
            if words < 100, rest.hasPrefix("=?"), let (decoded, length) = word(rest) {
                if !afterWord { result += pendingSpace }
                pendingSpace = ""
                result += decoded
                rest = rest.dropFirst(length)
                afterWord = true
                words += 1
            } else if rest.first == " " || rest.first == "\t" {
                pendingSpace.append(rest.removeFirst())
            } else {
                result += pendingSpace
                pendingSpace = ""
                result.append(rest.removeFirst())
                afterWord = false
            }
        }
        return result + pendingSpace
    }

    /// One encoded word at the start of `text`, decoded, and how many characters it took.
    private static func word(_ text: Substring) -> (String, Int)? {
        let fields = text.dropFirst(2).split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, fields[3].hasPrefix("="), !fields[0].isEmpty, fields[2].count <= 1000,
            !fields[2].contains(" ")
        else { return nil }
        let charset = fields[0].split(separator: "*").first.map(String.init)  // RFC 2231 language suffix
        let encoded = Array(fields[2].utf8)
        let bytes: [UInt8]?
        switch fields[1].lowercased() {
        case "b": bytes = MIMEEntity.base64(encoded[...])
        case "q": bytes = MIMEEntity.quotedPrintable(encoded.map { $0 == UInt8(ascii: "_") ? UInt8(ascii: " ") : $0 }[...])
        default: bytes = nil
        }
        guard let bytes else { return nil }
        let length = 2 + fields[0].count + 1 + fields[1].count + 1 + fields[2].count + 2
        return (MIMEEntity.text(bytes, charset: charset), length)
    }
}
