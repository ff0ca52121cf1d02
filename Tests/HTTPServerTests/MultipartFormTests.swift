import Foundation
@testable import HTTPServer
import Testing

/// multipart/form-data parsing of hostile bodies: each boundary and header block is searched for
/// once, from where the last one ended, and a part's headers may not run on for megabytes.
@Suite struct MultipartFormTests {
    static let boundary = "----purser-boundary"

    static func body(_ parts: [(headers: String, content: String)]) -> [UInt8] {
        var text = ""
        for part in parts { text += "--\(boundary)\r\n\(part.headers)\r\n\r\n\(part.content)\r\n" }
        return Array((text + "--\(boundary)--\r\n").utf8)
    }

    @Test func fieldsAndFilesAreRead() throws {
        let parts = try MultipartForm.parse(
            Self.body([
                (#"Content-Disposition: form-data; name="note""#, "hello"),
                (
                    "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\nContent-Type: text/plain; charset=utf-8",
                    "x\r\ny"
                ),
            ]), boundary: Self.boundary)
        #expect(parts.map(\.name) == ["note", "file"])
        #expect(parts[0].text == "hello" && parts[0].filename == nil)
        #expect(parts[1].filename == "a \"b\".txt" && parts[1].contentType == "text/plain" && parts[1].text == "x\r\ny")
    }

    @Test func aPartWithMoreThan8KiBOfHeadersIsRefused() throws {
        // Megabytes of disposition parameters were once parsed character by character (seconds of work per request).
        let padding = String(repeating: "; a=\"\\\"\"", count: 1200)
        let long = Self.body([("Content-Disposition: form-data; name=\"file\"" + padding, "x")])
        #expect(long.count < 16 * 1024)
        let error = try #require(throws: HTTPError.self) { try MultipartForm.parse(long, boundary: Self.boundary) }
        #expect(error.detail == "A part of the form has more than 8 KiB of headers.")
        // Up to the limit is fine.
        let fits = Self.body([("Content-Disposition: form-data; name=\"file\"" + String(repeating: "; a=b", count: 1500), "x")])
        #expect(try MultipartForm.parse(fits, boundary: Self.boundary).map(\.name) == ["file"])
    }

    @Test func runsOfAlmostBoundariesAreReadOnce() throws {
        // Ten MiB of lines that each begin like the boundary and end one byte short: the content is one part.
        let almost = "\r\n--" + Self.boundary.dropLast() + "x"
        let content = String(repeating: almost, count: (10 << 20) / almost.utf8.count)
        let parts = try MultipartForm.parse(
            Self.body([(#"Content-Disposition: form-data; name="file"; filename="f""#, content)]),
            boundary: Self.boundary)
        #expect(parts.count == 1 && parts[0].data.count == content.utf8.count)
    }
}
