// Files from a folder (Purser's Public/) held in memory and served under a prefix.
// Each file is also reachable under a fingerprinted name (`purser.3f9a2c41d0.css`) that may be
// cached for a year, since a change of content changes the name.
import Crypto
import Foundation

public struct StaticFiles: Sendable {
    struct File: Sendable {
        let etag: String
        let full: CachedResponse
        let notModified: CachedResponse

        init(bytes: [UInt8], contentType: String, etag: String, fingerprinted: Bool) {
            self.etag = etag
            let headers = HTTPHeaders([
                ("Content-Type", contentType),
                ("ETag", etag),
                ("Cache-Control", fingerprinted ? "public, max-age=31536000, immutable" : "public, no-cache"),
            ])
            full = CachedResponse(status: .ok, headers: headers, body: bytes)
            notModified = CachedResponse(status: .notModified, headers: headers)
        }
    }

    public let prefix: String
    private let files: [String: File]
    /// Plain relative path → fingerprinted relative path.
    private let fingerprints: [String: String]

    /// Loads every regular file under `folder`; hidden files are skipped.
    public init(folder: URL, prefix: String = "/static/") throws {
        self.prefix = prefix
        var files: [String: File] = [:]
        var fingerprints: [String: String] = [:]
        let root = folder.standardizedFileURL.resolvingSymlinksInPath().path
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let full = root + "/" + relative
            var isDirectory: ObjCBool = false
            guard !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }),
                FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: full)))
            let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            let type = Self.contentType(of: relative)
            let etag = "\"\(digest.prefix(20))\""
            files[relative] = File(bytes: bytes, contentType: type, etag: etag, fingerprinted: false)
            let fingerprinted = Self.fingerprintedName(relative, digest: String(digest.prefix(10)))
            files[fingerprinted] = File(bytes: bytes, contentType: type, etag: etag, fingerprinted: true)
            fingerprints[relative] = fingerprinted
        }
        self.files = files
        self.fingerprints = fingerprints
    }

    /// The URL to put in pages for `relative` (e.g. `css/purser.css`): fingerprinted when the file exists.
    public func url(for relative: String) -> String {
        prefix + (fingerprints[relative] ?? relative)
    }

    /// A GET route for everything under the prefix; unknown names and any `..` are 404.
    public var route: Route {
        Route(.get, prefix + "{path}", options: .inline) { request in try self.serve(request) }
    }

    func serve(_ request: Request) throws -> Response {
        // Only names loaded at start are served, so `..`, encoded or not, can never reach the disk.
        guard let file = files[String(request.path.utf8.dropFirst(prefix.utf8.count))!] else {
            throw HTTPError(.notFound, detail: "There is no file at \(request.path).")
        }
        if let candidates = request.headers["If-None-Match"],
            candidates == "*"
                || candidates.split(separator: ",").contains(where: {
                    $0.trimmingWhitespace.replacingOccurrences(of: "W/", with: "") == file.etag
                })
        {
            return Response(cached: file.notModified)
        }
        return Response(cached: file.full)
    }

    static func fingerprintedName(_ relative: String, digest: String) -> String {
        guard let dot = relative.lastIndex(of: "."), relative[dot...].count > 1,
            !relative[dot...].contains("/")
        else { return relative + "." + digest }
        return relative[..<dot] + "." + digest + relative[dot...]
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last.map({ $0.lowercased() }) ?? "" {
        case "css": "text/css; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "webp": "image/webp"
        case "ico": "image/x-icon"
        case "woff2": "font/woff2"
        case "woff": "font/woff"
        case "txt": "text/plain; charset=utf-8"
        case "html": "text/html; charset=utf-8"
        case "webmanifest": "application/manifest+json"
        default: "application/octet-stream"
        }
    }
}
