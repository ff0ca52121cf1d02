import Foundation
@testable import Purser
import Testing

@Suite struct KeyringTests {
    let first = Keyring.generateText(id: "2026a")
    let second = Keyring.generateText(id: "2025b")

    @Test func aSealedValueOpensOnlyInItsContext() throws {
        let ring = try Keyring(parsing: first)
        let sealed = try ring.seal(Array("aws-secret".utf8), context: "provider:1")
        #expect(sealed.keyID == "2026a")
        #expect(!sealed.combined.isEmpty && sealed.combined != Array("aws-secret".utf8))
        #expect(try ring.open(sealed, context: "provider:1") == Array("aws-secret".utf8))
        #expect(throws: Keyring.KeyringError.tampered) { try ring.open(sealed, context: "provider:2") }
        var altered = sealed.combined
        altered[altered.count / 2] ^= 1
        #expect(throws: Keyring.KeyringError.tampered) {
            try ring.open(SealedValue(keyID: sealed.keyID, combined: altered), context: "provider:1")
        }
    }

    @Test func rotationOpensOldValuesAndSealsWithTheFirstKey() throws {
        let old = try Keyring(parsing: second)
        let sealed = try old.seal(Array("ca-key".utf8), context: "ssh-ca")
        let rotated = try Keyring(parsing: "\(first),\(second)")
        #expect(try rotated.open(sealed, context: "ssh-ca") == Array("ca-key".utf8))
        let resealed = try rotated.reseal(sealed, context: "ssh-ca")
        #expect(resealed.keyID == "2026a")
        #expect(throws: Keyring.KeyringError.unknownKey("2026a")) { try old.open(resealed, context: "ssh-ca") }
    }

    @Test func aBareKeyIsAccepted() throws {
        let bare = String(first.split(separator: ":")[1])
        #expect(try Keyring(parsing: bare).keys.map(\.id) == ["k1"])
    }

    @Test func malformedRingsAreRefusedWithoutEchoingKeys() {
        for text in ["", "short", "a:\(Data(repeating: 1, count: 16).base64EncodedString())", "\(first),\(first)", "bad id:xx"] {
            let error = #expect(throws: Keyring.KeyringError.self) { try Keyring(parsing: text) }
            #expect(!(error?.description.contains(String(first.split(separator: ":")[1])) ?? true))
        }
    }

    @Test func sealedValuesSurviveTheirTextForm() throws {
        let ring = try Keyring(parsing: first)
        let sealed = try ring.seal(Array("x".utf8), context: "c")
        #expect(SealedValue(text: sealed.text) == sealed)
        #expect(SealedValue(text: "no-dot") == nil)
    }

    @Test func checkpointsAreAuthenticated() throws {
        let ring = try Keyring(parsing: first)
        let (id, tag) = ring.authenticate(Array("head:abc".utf8))
        #expect(ring.verify(Array("head:abc".utf8), keyID: id, tag: tag))
        #expect(!ring.verify(Array("head:abd".utf8), keyID: id, tag: tag))
    }
}

@Suite struct UUIDv7Tests {
    @Test func versionVariantAndTimeAreSet() {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123)
        let id = UUID.v7(at: date)
        let text = id.uuidString.lowercased()
        #expect(Array(text)[14] == "7")
        #expect("89ab".contains(Array(text)[19]))
        #expect(abs((id.v7Date?.timeIntervalSince1970 ?? 0) - 1_795_000_000.123) < 0.001)
        #expect(UUID().v7Date == nil)
    }

    @Test func laterIdsSortAfterEarlierOnes() {
        let ids = (0..<50).map { UUID.v7(at: Date(timeIntervalSince1970: 1_700_000_000 + Double($0))) }
        #expect(ids.map { $0.uuidString } == ids.map { $0.uuidString }.sorted())
        // Ids made in the same millisecond still differ.
        let moment = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(Set((0..<1000).map { _ in UUID.v7(at: moment) }).count == 1000)
    }
}
