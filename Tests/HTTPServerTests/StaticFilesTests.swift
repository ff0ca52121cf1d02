import Foundation
import HTTPServer
import HTTPServerTesting
import Testing

@Suite struct StaticFilesTests {
    let server: TestServer
    let files: StaticFiles

    init() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("static-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("css"), withIntermediateDirectories: true)
        try Data("body { color: black; }".utf8).write(to: folder.appendingPathComponent("css/site.css"))
        try Data("<svg xmlns='http://www.w3.org/2000/svg'/>".utf8).write(to: folder.appendingPathComponent("logo.svg"))
        try Data("secret".utf8).write(to: folder.appendingPathComponent(".env"))
        let files = try StaticFiles(folder: folder)
        self.files = files
        server = try TestServer { router in router.addPrefix(files.prefix, files.route) }
    }

    @Test func filesAreServedWithTheirContentType() throws {
        let css = try server.send("GET", "/static/css/site.css")
        #expect(css.status == 200)
        #expect(css.header("Content-Type") == "text/css; charset=utf-8")
        #expect(css.text == "body { color: black; }")
        #expect(css.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
        #expect(css.header("X-Content-Type-Options") == "nosniff")
        #expect(try server.send("GET", "/static/logo.svg").header("Content-Type") == "image/svg+xml")
    }

    @Test func aMatchingETagAnswers304() throws {
        let first = try server.send("GET", "/static/css/site.css")
        let etag = try #require(first.header("ETag"))
        let second = try server.send("GET", "/static/css/site.css", headers: [("If-None-Match", etag)])
        #expect(second.status == 304)
        #expect(second.body.isEmpty)
        #expect(second.header("ETag") == etag)
        #expect(second.header("X-Content-Type-Options") == "nosniff")
        let changed = try server.send("GET", "/static/css/site.css", headers: [("If-None-Match", "\"other\"")])
        #expect(changed.status == 200)
    }

    @Test func fingerprintedNamesAreCachedForAYear() throws {
        let url = files.url(for: "css/site.css")
        #expect(url != "/static/css/site.css")
        #expect(url.hasPrefix("/static/css/site.") && url.hasSuffix(".css"))
        let response = try server.send("GET", url)
        #expect(response.status == 200)
        #expect(response.header("Cache-Control")?.contains("max-age=31536000") == true)
        #expect(try server.send("GET", "/static/css/site.css").header("Cache-Control")?.contains("no-cache") == true)
    }

    @Test func pathTraversalAndHiddenFilesAreNotFound() throws {
        let traversal = try RawHTTP.exchange(
            port: server.port,
            Array("GET /static/../Package.swift HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".utf8))
        #expect(traversal.hasPrefix("HTTP/1.1 404"))
        let encoded = try RawHTTP.exchange(
            port: server.port,
            Array("GET /static/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".utf8))
        #expect(encoded.hasPrefix("HTTP/1.1 404"))
        #expect(try server.send("GET", "/static/.env").status == 404)
        #expect(try server.send("GET", "/static/missing.css").status == 404)
    }
}
