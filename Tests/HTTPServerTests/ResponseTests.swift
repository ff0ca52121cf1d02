import Foundation
import HTTPServer
import HTTPServerTesting
import Testing

struct Boom: Error {}

@Suite struct ResponseTests {
    @Test func everyResponseCarriesTheSecurityHeaders() throws {
        let server = try TestServer(
            configuration: ServerConfiguration(
                bodyLimit: 16, securityHeaders: SecurityHeaders(strictTransportSecurity: "max-age=63072000"))
        ) { router in
            router.add(.get, "/ok", options: .inline) { _ in .text("ok") }
            router.add(.post, "/ok") { _ in .text("ok") }
        }
        let answers = [
            try server.send("GET", "/ok"),
            try server.send("GET", "/missing"),
            try server.send("POST", "/ok", body: Array(repeating: 0, count: 100)),
        ]
        #expect(answers.map(\.status) == [200, 404, 413])
        for response in answers {
            let policy = response.header("Content-Security-Policy") ?? ""
            #expect(policy.contains("frame-ancestors 'none'"))
            #expect(!policy.contains("unsafe-inline"))
            #expect(response.header("X-Content-Type-Options") == "nosniff")
            #expect(response.header("Referrer-Policy") != nil)
            #expect(response.header("Strict-Transport-Security") == "max-age=63072000")
        }
    }

    @Test func strictTransportSecurityOnlyWhenConfigured() throws {
        let server = try TestServer { router in router.add(.get, "/ok", options: .inline) { _ in .text("ok") } }
        #expect(try server.send("GET", "/ok").header("Strict-Transport-Security") == nil)
    }

    @Test func anUnexpectedErrorIsA500ProblemAndTheServerLivesOn() throws {
        let server = try TestServer { router in
            router.add(.get, "/boom") { _ in throw Boom() }
            router.add(.get, "/inline-boom", options: .inline) { _ in throw Boom() }
            router.add(.get, "/ok", options: .inline) { _ in .text("ok") }
        }
        for path in ["/boom", "/inline-boom"] {
            let response = try server.send("GET", path, headers: [("X-Request-Id", "trace-1")])
            #expect(response.status == 500)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.text.contains("trace-1"))
            #expect(!response.text.contains("Boom"), "internals stay in the log")
        }
        #expect(try server.send("GET", "/ok").status == 200)
    }

    @Test func aStreamedBodyArrivesWhole() throws {
        let server = try TestServer { router in
            router.add(.get, "/export.csv") { _ in
                let rows = LockedCounter()
                return Response(
                    status: .ok, headers: HTTPHeaders([("Content-Type", "text/csv")]),
                    body: .stream {
                        let row = rows.next()
                        return row < 10_000 ? Array("\(row),row \(row)\n".utf8) : nil
                    })
            }
        }
        let response = try server.send("GET", "/export.csv")
        #expect(response.status == 200)
        let lines = response.text.split(separator: "\n")
        #expect(lines.count == 10_000)
        #expect(lines.last == "9999,row 9999")
    }

    @Test func cookiesAreReadAndWritten() throws {
        let server = try TestServer { router in
            router.add(.get, "/cookie", options: .inline) { request in
                var response = Response.text(request.cookie("session") ?? "none")
                response.setCookie(SetCookie(name: "seen", value: "1", maxAge: 60, secure: true))
                return response
            }
        }
        let response = try server.send("GET", "/cookie", headers: [("Cookie", "theme=dark; session=abc123")])
        #expect(response.text == "abc123")
        #expect(response.header("Set-Cookie") == "seen=1; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax")
    }

    @Test func formsAreDecoded() throws {
        let server = try TestServer { router in
            router.add(.post, "/form") { request in
                let form = try request.form()
                return .text("\(form["name"] ?? "")|\(form["note"] ?? "")|\(form.all("tag").joined(separator: ","))")
            }
        }
        let response = try server.send(
            "POST", "/form", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Array("name=Ada+Lovelace&note=a%26b%3Dc&tag=x&tag=y".utf8))
        #expect(response.text == "Ada Lovelace|a&b=c|x,y")
        let wrong = try server.send("POST", "/form", headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        #expect(wrong.status == 415)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
}
