import Foundation
import HTTPServer
@testable import Purser
import Testing
import TestSupport

/// Stores speak the domain: below the handlers nothing builds or reads HTTP messages, and the
/// domain's errors get their HTTP statuses only at the seam (App/ErrorMapping.swift).
@Suite struct LayeringTests {
    /// The handler layer, which may speak HTTP: pages, API handlers, routes and the response
    /// builders beside them in a feature folder, the API gate (tokens, tenant, scopes, rate limits,
    /// idempotency), the page infrastructure and the application's wiring and error seam.
    static let handlerFolders = ["API/", "Web/", "App/"]
    static let handlerSuffixes = ["Pages.swift", "Page.swift", "API.swift", "Routes.swift", "Response.swift"]

    /// What the domain may take from HTTPServer, each by a scoped import: values and utilities
    /// that carry no HTTP message.
    static let allowedImports: Set<String> = [
        "class HTTPServer.Locked",  // a plain lock
        "class HTTPServer.MetricsRegistry",  // Prometheus counters of jobs and queues
        "struct HTTPServer.FieldError",  // a field's name and message, in validation errors
        "enum HTTPServer.JSONValue",  // a parsed JSON document (webhook payloads)
        "struct HTTPServer.IPAddress",  // an address, for throttling
        "struct HTTPServer.WouldBlock",  // "not on an I/O thread": a token lookup that needs the database
        "struct HTTPServer.QueryParameters",  // a decoded query string (saved views, report parameters)
        "struct HTTPServer.SetCookie",  // the session's cookie attributes
    ]

    static var httpWords: Regex<(Substring, Substring)> { /\b(Request|Response|HTTPError|HTTPStatus|HTTPResponseError|HTTPHeaders)\b/ }

    static func domainFiles() throws -> [(path: String, text: String)] {
        let sources = TestEnvironment.root.appendingPathComponent("Sources/Purser")
        let paths = try FileManager.default.subpathsOfDirectory(atPath: sources.path)
            .filter { $0.hasSuffix(".swift") }
            .filter { path in
                !handlerFolders.contains { path.hasPrefix($0) } && !handlerSuffixes.contains { path.hasSuffix($0) }
            }
            .sorted()
        return try paths.map { ($0, try String(contentsOf: sources.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// Code without its comments (`//` to the end of the line), line by line.
    static func codeLines(_ text: String) -> [(number: Int, code: String)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { index, line in
            let code = line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line)
            return (index + 1, code)
        }
    }

    @Test func theWalkSeesTheStores() throws {
        let paths = try Self.domainFiles().map(\.path)
        for store in [
            "Requests/RequestStore.swift", "Requests/RequestAttachments.swift", "Identity/TokenStore.swift",
            "Core/ValidationError.swift",
        ] {
            #expect(paths.contains(store), "\(store) is checked")
        }
        for handler in ["Requests/RequestPages.swift", "Requests/RequestsAPI.swift", "API/APIGate.swift"] {
            #expect(!paths.contains(handler), "\(handler) is in the handler layer")
        }
    }

    @Test func storesAndDomainFilesDoNotImportHTTPServer() throws {
        var offences: [String] = []
        for (path, text) in try Self.domainFiles() {
            for (number, code) in Self.codeLines(text) {
                let line = code.trimmingCharacters(in: .whitespaces)
                guard line.hasPrefix("import "), line.contains("HTTPServer") else { continue }
                let imported = String(line.dropFirst("import ".count)).trimmingCharacters(in: .whitespaces)
                if !Self.allowedImports.contains(imported) { offences.append("\(path):\(number): \(line)") }
            }
        }
        #expect(offences.isEmpty, "below the handlers, import only HTTPServer's plain values: \(offences.joined(separator: "; "))")
    }

    @Test func storesAndDomainFilesNeitherBuildNorReadHTTPMessages() throws {
        var offences: [String] = []
        for (path, text) in try Self.domainFiles() {
            // The cheap test first: Regex is slow, and almost no line holds either word.
            for (number, code) in Self.codeLines(text)
            where (code.contains("Re") || code.contains("HTTP")) && code.contains(Self.httpWords) {
                offences.append("\(path):\(number): \(code.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(offences.isEmpty, "stores return domain values and throw domain errors: \(offences.joined(separator: "; "))")
    }

    @Test func domainErrorsCrossTheSeamWithTheirStatuses() {
        func answer(_ error: any Error) -> (Int, String?, HTTPHeaders)? {
            (error as? any HTTPResponseError).map { ($0.status.rawValue, $0.detail, $0.headers) }
        }
        #expect(answer(NotFound())?.0 == 404)
        #expect(answer(ValidationError(field: "x", "bad"))?.0 == 422)
        #expect(answer(ValidationError(field: "email", "taken", refusal: .conflict))?.0 == 409)
        #expect(answer(ValidationError(field: "file", "files are at most 10 MiB", refusal: .tooLarge))?.0 == 413)
        let stale = answer(StaleVersion(current: #""3""#))
        #expect(stale?.0 == 412)
        #expect(stale?.2["ETag"] == #""3""#)
        let unknown = answer(Unauthenticated(why: "The token is not valid."))
        #expect(unknown?.0 == 401)
        #expect(unknown?.2["WWW-Authenticate"]?.hasPrefix("Bearer") == true)
        #expect(answer(SignInRefused())?.0 == 401)
        #expect(answer(SignInRefused())?.2["WWW-Authenticate"] == nil)
        #expect(answer(SignInThrottled(retryAfter: 30))?.0 == 429)
        #expect(answer(SignInThrottled(retryAfter: 30))?.2["Retry-After"] == "30")
        #expect(answer(PasswordHasher.Busy())?.2["Retry-After"] == "1")
        #expect(answer(MissingScope(scope: .costsRead))?.0 == 403)
        let link = LinkNotValid() as any HTTPResponseError
        #expect(link.status.rawValue == 404)
        #expect(link.title == "This link no longer works")
    }

    /// A domain error that no one taught the seam about still gets its refusal's status.
    @Test func anUnlistedDomainErrorIsMappedByItsRefusal() throws {
        struct Exhausted: DomainError {
            var refusal: Refusal { .tooMany }
            var detail: String? { "Wait." }
            var retryAfterSeconds: Int? { 7 }
        }
        do {
            _ = try DatabaseErrorMapping().handle(Request(method: .get, path: "/api/v1/x")) { _ in throw Exhausted() }
            Issue.record("no error")
        } catch let mapped as HTTPError {
            #expect(mapped.status.rawValue == 429)
            #expect(mapped.detail == "Wait.")
            #expect(mapped.headers["Retry-After"] == "7")
        }
    }
}
