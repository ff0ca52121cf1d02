// A person in a browser, as far as the server can tell: a cookie jar, forms posted with their
// hidden form token, redirects looked at rather than followed.
import Foundation
import HTTPClient
import Purser

public final class WebVisitor: @unchecked Sendable {
    public let baseURL: String
    private let client: HTTPClient
    public private(set) var cookies: [String: String] = [:]
    public let address: String?

    public init(_ app: TestApp, address: String? = nil) {
        self.baseURL = app.baseURL
        self.client = app.client
        self.address = address
    }

    /// A visitor of any Purser, by its address (`http://127.0.0.1:8080`).
    public init(baseURL: String) {
        self.baseURL = baseURL
        var options = HTTPClient.Options()
        options.totalTimeout = .seconds(20)
        self.client = HTTPClient(options: options)
        self.address = nil
    }

    /// The same browser (a copy of its cookies) at another address: another node of one Purser.
    public func at(_ baseURL: String) -> WebVisitor {
        let other = WebVisitor(baseURL: baseURL)
        other.cookies = cookies
        return other
    }

    private var cookieHeader: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if !cookies.isEmpty {
            headers.append(("Cookie", cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")))
        }
        if let address { headers.append(("X-Forwarded-For", address)) }
        return headers
    }

    private func remember(_ response: ClientResponse) {
        for header in response.headerValues("Set-Cookie") {
            let pair = header.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1)
            guard pair.count >= 1 else { continue }
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
    }

    @discardableResult
    public func get(_ path: String) throws -> ClientResponse {
        let response = try client.get(baseURL + path, headers: cookieHeader)
        remember(response)
        return response
    }

    /// Posts `fields` as a form; `formToken` nil sends none, "" picks the one on `from` (a page path).
    @discardableResult
    public func post(_ path: String, _ fields: [(String, String)], formToken: String? = "", from page: String? = nil) throws
        -> ClientResponse
    {
        var all = fields
        if let formToken {
            all.append(("csrf", formToken.isEmpty ? try self.formToken(on: page ?? path) : formToken))
        }
        let body = all.map { Self.encode($0.0) + "=" + Self.encode($0.1) }.joined(separator: "&")
        let response = try client.send(
            ClientRequest(
                method: "POST", url: baseURL + path,
                headers: cookieHeader + [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8)))
        remember(response)
        return response
    }

    /// Uploads `file` as a browser's multipart form would, encoded by curl (not by Purser's code):
    /// the form token from `page`, the file in the field `file` with `type`. Returns the status.
    public func upload(_ path: String, file: URL, type: String, from page: String) throws -> Int {
        let token = try formToken(on: page)
        let cookie = cookieHeader.map(\.value).joined(separator: "; ")
        let result = try Subprocess.run(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Cookie: \(cookie)",
                "-F", "csrf=\(token)", "-F", "file=@\(file.path);type=\(type)", baseURL + path,
            ])
        guard let status = Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestSetupError("curl said: \(result.output)")
        }
        return status
    }

    /// The form token of the last form on the page at `path` (the page's own form, after the
    /// layout's sign-out form).
    public func formToken(on path: String) throws -> String {
        let page = try get(path)
        guard
            let token = page.text.components(separatedBy: #"name="csrf" value=""#).dropFirst().last?
                .split(separator: "\"", maxSplits: 1).first.map(String.init)
        else {
            throw TestSetupError("no form token on \(path) (status \(page.status))")
        }
        return token
    }

    /// Signs in with email and password (and a second-factor code, when given); returns the last response.
    @discardableResult
    public func signIn(_ email: String, _ password: String, code: (() throws -> String)? = nil) throws -> ClientResponse {
        let response = try post("/sign-in", [("email", email), ("password", password)], from: "/sign-in")
        if response.header("Location")?.hasPrefix("/sign-in/two-factor") == true, let code {
            return try post("/sign-in/two-factor", [("code", try code())], from: "/sign-in/two-factor")
        }
        return response
    }

    public static func firstMatch(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            match.numberOfRanges > 1, let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }
}
