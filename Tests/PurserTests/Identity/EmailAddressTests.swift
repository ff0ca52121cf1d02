import Foundation
import HTTPServer
@testable import Purser
import Testing
import TestSupport

/// E-mail addresses are checked by length and then in one pass, by the people store and the email
/// channel alike; a hostile address costs no more than its length (the regular expression used before
/// took 0.57 s on `a@` + 10,000 dots + `@`, and four times that for twice the dots).
@Suite struct EmailAddressTests {
    static let pathological = "a@" + String(repeating: ".", count: 10_000) + "@"

    @Test func ordinaryAddressesAreAccepted() {
        for address in ["ada@example.com", "a@b.c", "first.last+tag@mail.bank.test", "ä@bücher.ch", "a@b.c.d", "a@b..c", "a@.b.c"] {
            #expect(EmailAddress.isValid(address), "\(address)")
        }
        #expect(EmailAddress.problem(inList: "desk@acme.test, ops@acme.test,") == nil)
    }

    @Test func malformedAddressesAreRefused() {
        for address in [
            "", "a", "a@b", "@b.c", "a@", "a@.b", "a@b.", "a@@b.c", "a@b@c.d", "a b@c.d", "a@b.c\t", "<a@b.c>",
            "a,b@c.d", "a@b.c\u{0}", "a@b\u{85}.c", "a@b\u{A0}.c", "a@b\u{2028}.c", "a.b@c",
        ] {
            #expect(!EmailAddress.isValid(address), "\(address.debugDescription)")
        }
        #expect(!EmailAddress.isValid(String(repeating: "a", count: 243) + "@example.com"), "255 bytes")
        #expect(EmailAddress.isValid(String(repeating: "a", count: 242) + "@example.com"), "254 bytes")
        #expect(EmailAddress.problem(inList: " , ") == "give email addresses separated by commas")
        #expect(EmailAddress.problem(inList: "desk@acme.test, nobody") == "give email addresses separated by commas")
    }

    @Test func thePathologicalAddressIsRefusedByItsLength() {
        #expect(!EmailAddress.isValid(Self.pathological))
        #expect(EmailAddress.problem(inList: Self.pathological) == "give at most 2,000 characters of email addresses")
        // Under the length limits the same shape is refused in one pass.
        #expect(!EmailAddress.isValid("a@" + String(repeating: ".", count: 200) + "@"))
        #expect(
            EmailAddress.problem(inList: "a@" + String(repeating: ".", count: 1900) + "@") == "give email addresses separated by commas")
    }

    @Test func aPersonWithAHostileAddressIsRefusedOnTheEmailField() {
        for email in [Self.pathological, "ada@bank.test\u{0}"] {
            #expect(throws: ValidationError(field: "email", "give an email address such as ada@example.com")) {
                try NewPerson(email: email, name: "Ada").validate()
            }
        }
        #expect(throws: Never.self) { try NewPerson(email: " Ada@Bank.test ", name: "Ada").validate() }
    }

    @Test func anEmailChannelOfMoreThan2000CharactersIsRefusedOnItsTarget() throws {
        let app = try TestApp()
        let people = try People(app)
        let channels = NotificationChannels(
            database: app.app.database, keyring: TestEnvironment.keyring,
            policy: DestinationPolicy(allowHTTP: false, allowed: []), world: app.app.world)
        let admin = people.id("tenant_admin@acme.test")
        let addresses = (0..<100).map { String(format: "person%04d@acme.test", $0) }
        let fits = addresses.prefix(95).joined(separator: ","), tooMany = addresses.prefix(96).joined(separator: ",")
        #expect(fits.utf8.count == 1994 && tooMany.utf8.count == 2015)
        for target in [tooMany, Self.pathological] {
            #expect(throws: ValidationError(field: "target", "give at most 2,000 characters of email addresses")) {
                try channels.create(
                    NewChannel(kind: "email", name: "Desk", target: target, events: ["request.created"]),
                    tenant: people.tenant, by: .person(admin, isStaff: false, origin: nil))
            }
        }
        _ = try channels.create(
            NewChannel(kind: "email", name: "Desk", target: fits, events: ["request.created"]),
            tenant: people.tenant, by: .person(admin, isStaff: false, origin: nil))
    }
}
