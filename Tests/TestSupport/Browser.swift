// Headless Chromium driven over WebDriver (chromedriver on loopback), for page tests.
import Foundation
import Postgres
import HTTPClient

public final class Browser: @unchecked Sendable {
    private let driver: ChildProcess
    private let driverURL: String
    private let session: String
    private let client: HTTPClient

    /// Starts chromedriver on a free port and opens a headless session that records console messages.
    public init() throws {
        let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromedriver else { throw TestSetupError("chromedriver is missing: `make test` installs chromium-driver") }
        let port = RawHTTP.freePort()
        driver = try ChildProcess([chromedriver, "--port=\(port)", "--allowed-ips=127.0.0.1"])
        driverURL = "http://127.0.0.1:\(port)"
        var options = HTTPClient.Options()
        options.totalTimeout = .seconds(60)
        client = HTTPClient(options: options)
        let (client, driverURL) = (client, driverURL)
        guard waitUntil(10, { (try? client.get(driverURL + "/status"))?.status == 200 }) else {
            driver.stop()
            throw TestSetupError("chromedriver did not start on port \(port)")
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": "/usr/bin/chromium",
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--window-size=1280,900",
                        ],
                    ],
                    "goog:loggingPrefs": ["browser": "ALL"],
                ]
            ]
        ]
        let created = try Self.call(client, "POST", driverURL + "/session", capabilities)
        guard let value = created["value"] as? [String: Any], let id = value["sessionId"] as? String else {
            driver.stop()
            throw TestSetupError("chromedriver refused the session: \(created)")
        }
        session = id
    }

    deinit {
        _ = try? client.delete("\(driverURL)/session/\(session)")
        // chromedriver does not always end on SIGTERM; its browser is gone with the session.
        driver.stop(signal: SIGKILL)
    }

    public func open(_ url: String) throws {
        _ = try command("POST", "url", ["url": url])
    }

    /// Runs `script` in the page and returns its result.
    public func evaluate(_ script: String) throws -> Any? {
        try command("POST", "execute/sync", ["script": script, "args": []])["value"] ?? nil
    }

    /// Polls `condition` (a script returning true when ready) for up to `timeout` seconds.
    public func wait(for condition: String, timeout: TimeInterval = 10) throws {
        if !waitUntil(timeout, { (try? evaluate("return Boolean(\(condition))")) as? Bool == true }) {
            throw TestSetupError("timed out waiting for \(condition)")
        }
    }

    /// Types `value` into the field matched by `selector`, as a person would (the value, then an input event).
    public func fill(_ selector: String, _ value: String) throws {
        _ = try command(
            "POST", "execute/sync",
            [
                "script": """
                const field = document.querySelector(arguments[0]);
                field.value = arguments[1];
                field.dispatchEvent(new Event('input', {bubbles: true}));
                """, "args": [selector, value],
            ])
    }

    /// Clicks the element matched by `selector`.
    public func click(_ selector: String) throws {
        _ = try command("POST", "execute/sync", ["script": "document.querySelector(arguments[0]).click()", "args": [selector]])
    }

    /// Opens `url`, which sends a signed-out person to the sign-in page, and signs in there.
    public func signIn(at url: String, as email: String, password: String) throws {
        try open(url)
        try wait(for: "location.pathname === '/sign-in'")
        try fill("#email", email)
        try fill("#password", password)
        try click("form[action='/sign-in'] button[type=submit]")
    }

    /// Signs in at `url` as `signIn(at:as:password:)` does, then enters `code()` on the second-factor step.
    public func signIn(at url: String, as email: String, password: String, code: () throws -> String) throws {
        try signIn(at: url, as: email, password: password)
        try wait(for: "location.pathname === '/sign-in/two-factor' && document.querySelector('#code')")
        try fill("#code", try code())
        try click("form[action='/sign-in/two-factor'] button[type=submit]")
        try wait(for: "location.pathname !== '/sign-in/two-factor'")
    }

    /// Lays pages out as on a screen `width` × `height` CSS pixels wide; `mobile` as a phone's
    /// browser does (the page's viewport meta tag applies, touch input).
    public func viewport(width: Int, height: Int, mobile: Bool) throws {
        _ = try Self.call(
            client, "POST", "\(driverURL)/session/\(session)/goog/cdp/execute",
            [
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile],
            ])
    }

    /// Forgets every cookie of the current site: the next page is seen signed out.
    public func deleteCookies() throws {
        _ = try command("DELETE", "cookie", nil)
    }

    /// Console messages at level SEVERE (errors, failed loads, CSP violations).
    public func consoleErrors() throws -> [String] {
        let entries = try command("POST", "se/log", ["type": "browser"])["value"] as? [[String: Any]] ?? []
        return entries.filter { ($0["level"] as? String) == "SEVERE" }.compactMap { $0["message"] as? String }
    }

    /// Saves a PNG of the viewport to `file`.
    public func screenshot(to file: URL) throws {
        guard let encoded = try command("GET", "screenshot", nil)["value"] as? String,
            let data = Data(base64Encoded: encoded)
        else { throw TestSetupError("no screenshot returned") }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]?) throws -> [String: Any] {
        try Self.call(client, method, "\(driverURL)/session/\(session)/\(path)", body)
    }

    private static func call(_ client: HTTPClient, _ method: String, _ url: String, _ body: [String: Any]?) throws -> [String: Any] {
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        let response = try client.send(
            ClientRequest(
                method: method, url: url,
                headers: [("Content-Type", "application/json")], body: bytes))
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        if response.status >= 400 { throw TestSetupError("WebDriver \(method) \(url) → \(response.status): \(object)") }
        return object
    }
}
