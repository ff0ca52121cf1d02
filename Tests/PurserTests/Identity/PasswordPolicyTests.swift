@testable import Purser
import Testing

@Suite struct PasswordPolicyTests {
    @Test func longUnusualPassphrasesPass() {
        #expect(PasswordPolicy.problem(with: "copper kettle sings at dawn") == nil)
        #expect(PasswordPolicy.problem(with: "Tŕé§ 🐢 ünïcode lösung") == nil)
        #expect(PasswordPolicy.problem(with: String(repeating: "ab7x", count: 64)) == nil, "256 characters is allowed")
    }

    @Test func lengthIsCountedInCharacters() {
        #expect(PasswordPolicy.problem(with: "short pass") != nil)
        #expect(PasswordPolicy.problem(with: "🐢🐢🐢🐢🐢🐢🐢🐢🐢🐢🐢") != nil, "11 characters, 44 bytes")
        #expect(PasswordPolicy.problem(with: String(repeating: "ab7x", count: 64) + "z") != nil)
    }

    @Test func commonPasswordsAndTheirVariantsAreRefused() {
        for password in [
            "passwordpassword", "password1234", "Qwertyuiop123!", "iloveyou2024!!", "aaaaaaaaaaaaaa",
            "abababababab", "123123123123", "dragondragon",
        ] {
            #expect(PasswordPolicy.problem(with: password) != nil, "\(password) should be refused")
        }
    }

    @Test func theAccountsOwnDetailsAreRefused() {
        #expect(PasswordPolicy.problem(with: "ada.lovelace-2026", email: "ada.lovelace@acme.test") != nil)
        #expect(PasswordPolicy.problem(with: "my name is grace hopper", name: "Grace Hopper") != nil)
    }
}
