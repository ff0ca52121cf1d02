// A request's file as an HTTP download, for the page and the API alike.
import Foundation
import HTTPServer

enum AttachmentResponse {
    /// The file as a download: its own type, `attachment` disposition, sandboxed, never cached by others.
    static func download(_ file: AttachmentFile) -> Response {
        var response = Response(status: .ok, contentType: file.contentType, body: file.bytes)
        response.headers.set("Content-Disposition", disposition(file.filename))
        response.headers.set("Content-Security-Policy", "sandbox; default-src 'none'")
        response.headers.set("Cache-Control", "private, no-store")
        return response
    }

    /// `attachment; filename="…"` with an ASCII fallback and the exact name as RFC 5987 UTF-8.
    static func disposition(_ filename: String) -> String {
        let fallback = String(
            filename.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
        let exact =
            filename.addingPercentEncoding(
                withAllowedCharacters: CharacterSet(
                    charactersIn:
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~")) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(exact)"
    }
}
