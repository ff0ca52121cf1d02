// multipart/form-data bodies (RFC 7578), as browsers send file uploads: parts separated by a
// boundary line, each with a Content-Disposition naming the field (and, for a file, its name)
// and an optional Content-Type. Anything malformed is a 400 naming what is wrong; the body is
// already within the route's size limit when this runs.
import Foundation

public struct MultipartForm: Sendable {
    public struct Part: Sendable {
        public let name: String
        public let filename: String?
        public let contentType: String?
        public let data: [UInt8]

        /// The part as text (a plain form field).
        public var text: String { String(decoding: data, as: UTF8.self) }
    }

    public let parts: [Part]

    /// The most bytes of headers one part may have (browsers send well under 1 KiB).
    static let partHeaderLimit = 8 * 1024

    public subscript(name: String) -> Part? { parts.first { $0.name == name } }

    /// Parses `request`'s body; 400 when it is not well-formed multipart/form-data.
    public init(_ request: Request) throws {
        guard request.contentType == "multipart/form-data",
            let header = request.headers["Content-Type"], let boundary = Self.boundary(header)
        else {
            throw HTTPError(.badRequest, detail: "Send the form as multipart/form-data with a boundary.")
        }
        parts = try Self.parse(request.body, boundary: boundary)
    }

    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value =
                pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2
                ? String(pair[1].dropFirst().dropLast()) : pair[1]
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    static func parse(_ body: [UInt8], boundary: String) throws -> [Part] {
        let delimiter = Array(("--" + boundary).utf8)
        let malformed = HTTPError(.badRequest, detail: "The multipart body is malformed.")
        guard var position = find(delimiter, in: body, from: 0) else { throw malformed }
        var parts: [Part] = []
        while true {
            position += delimiter.count
            // "--" after a delimiter ends the body.
            if body.count >= position + 2 && body[position] == 45 && body[position + 1] == 45 { return parts }
            guard body.count >= position + 2, body[position] == 13, body[position + 1] == 10 else { throw malformed }
            position += 2
            // A part's headers are a line or two; looking no further than `partHeaderLimit` keeps a hostile
            // body from spending seconds in the character-by-character header parsing below.
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: position, before: position + partHeaderLimit + 4) else {
                throw body.count - position > partHeaderLimit + 4
                    ? HTTPError(.badRequest, detail: "A part of the form has more than 8 KiB of headers.") : malformed
            }
            let headers = String(decoding: body[position..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = find([13, 10] + delimiter, in: body, from: contentStart) else { throw malformed }
            var name: String?, filename: String?, contentType: String?
            for line in headers.components(separatedBy: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { throw malformed }
                let field = line[..<colon].lowercased(), value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if field == "content-disposition" {
                    let disposition = Self.dispositionParameters(value)
                    name = disposition["name"]
                    filename = disposition["filename"]
                } else if field == "content-type" {
                    contentType = value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                }
            }
            guard let name else { throw malformed }
            parts.append(Part(name: name, filename: filename, contentType: contentType, data: Array(body[contentStart..<next])))
            guard parts.count <= 100 else { throw HTTPError(.badRequest, detail: "Too many parts in the form.") }
            position = next + 2
        }
    }

    /// `form-data; name="file"; filename="a.txt"` → name, filename (quotes and \" escapes undone).
    static func dispositionParameters(_ value: String) -> [String: String] {
        var result: [String: String] = [:]
        var scalars = Substring(value)
        while let semicolon = scalars.firstIndex(of: ";") {
            scalars = scalars[scalars.index(after: semicolon)...].drop { $0 == " " }
            guard let equals = scalars.firstIndex(of: "=") else { break }
            let key = scalars[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var rest = scalars[scalars.index(after: equals)...]
            var text = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        text.append(character); escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        text.append(character)
                    }
                }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                text = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            result[key] = text
            scalars = rest
        }
        return result
    }

    /// The first `needle` at or after `start` that ends by `end` (by default, the end of `haystack`).
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int, before end: Int = .max) -> Int? {
        let end = min(end, haystack.count)
        guard !needle.isEmpty, end >= needle.count, start <= end - needle.count else { return nil }
        let first = needle[0]
        var index = start
        let last = end - needle.count
        return haystack.withUnsafeBufferPointer { bytes in
            needle.withUnsafeBufferPointer { pattern in
                while index <= last {
                    if bytes[index] == first && memcmp(bytes.baseAddress! + index, pattern.baseAddress!, pattern.count) == 0 {
                        return index
                    }
                    index += 1
                }
                return nil
            }
        }
    }
}
