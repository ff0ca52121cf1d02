import Argon2
import Foundation
import Testing
import TestSupport

/// `purser admin create-tenant | create-user | create-staff` as an operator runs them.
@Suite struct AdminCommandTests {
    @Test func tenantsAndPeopleAreCreatedFromTheShell() throws {
        let database = try TestDatabase()
        let environment = ["PATH": "/usr/bin:/bin", "PURSER_ROOT": TestEnvironment.root.path, "DATABASE_URL": database.url]
        let binary = TestEnvironment.purserBinary.path
        let tenant = try Subprocess.run(
            binary,
            [
                "admin", "create-tenant", "--slug", "acme", "--name", "Acme Bank",
                "--time-zone", "Europe/Zurich",
            ], environment: environment)
        #expect(tenant.status == 0, "\(tenant.output)")
        #expect(tenant.output.contains("Created tenant acme"))

        let again = try Subprocess.run(binary, ["admin", "create-tenant", "--slug", "acme", "--name", "Again"], environment: environment)
        #expect(again.status == 1)
        #expect(again.output.contains("purser: slug: another tenant already uses this slug"))

        let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)")
        try Data("copper kettle sings at dawn\n".utf8).write(to: passwordFile)
        defer { try? FileManager.default.removeItem(at: passwordFile) }
        let user = try Subprocess.run(
            "/bin/sh",
            [
                "-c",
                "\"$0\" admin create-user --tenant acme --email ada@acme.test --name Ada --role tenant_admin --password-stdin < \"$1\"",
                binary, passwordFile.path,
            ], environment: environment)
        #expect(user.status == 0, "\(user.output)")
        let hash = try database.connect().query("SELECT password_hash FROM users WHERE email = 'ada@acme.test'")[0]
            .require(0, as: String.self)
        #expect(try PasswordHasherCheck.verify("copper kettle sings at dawn", hash), "the trailing newline was removed")

        let token = try Subprocess.run(
            binary,
            [
                "admin", "create-token", "--email", "ada@acme.test", "--tenant", "acme",
                "--scopes", "requests:read,costs:read", "--expires", "7d",
            ], environment: environment)
        #expect(token.status == 0, "\(token.output)")
        let printed = token.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(printed.hasPrefix("pur_") && printed.count == 60)
        let app = try TestApp(database: database)
        #expect(try app.get("/api/v1/me", headers: [("Authorization", "Bearer \(printed)")]).status == 200)
        let badScope = try Subprocess.run(
            binary,
            [
                "admin", "create-token", "--email", "ada@acme.test", "--tenant", "acme",
                "--scopes", "everything",
            ], environment: environment)
        #expect(badScope.status != 0)
        #expect(badScope.output.contains("unknown scope 'everything'"))

        let weak = try Subprocess.run(
            "/bin/sh",
            [
                "-c",
                "echo password1234 | \"$0\" admin create-user --tenant acme --email bob@acme.test --name Bob --role viewer --password-stdin",
                binary,
            ], environment: environment)
        #expect(weak.status == 1)
        #expect(weak.output.contains("purser: password:"))

        let unknown = try Subprocess.run(
            binary,
            [
                "admin", "create-user", "--tenant", "nowhere", "--email", "c@x.test", "--name", "C",
                "--role", "viewer",
            ], environment: environment)
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("there is no tenant 'nowhere'"))

        let staff = try Subprocess.run(
            binary,
            [
                "admin", "create-staff", "--email", "grace@provider.test", "--name", "Grace",
                "--role", "cse",
            ], environment: environment)
        #expect(staff.status == 0, "\(staff.output)")
        #expect(staff.output.contains("No password is set yet."))
    }
}

enum PasswordHasherCheck {
    static func verify(_ password: String, _ encoded: String) throws -> Bool {
        Argon2id.verify(Array(password.utf8), encoded: encoded)
    }
}
