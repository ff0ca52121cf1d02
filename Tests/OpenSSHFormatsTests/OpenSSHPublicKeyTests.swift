import Foundation
import OpenSSHFormats
import Testing

@Suite struct OpenSSHPublicKeyTests {
    @Test(arguments: [
        (KeyFixtures.ed25519, OpenSSHPublicKey.Algorithm.ed25519, 256, KeyFixtures.ed25519Fingerprint),
        (KeyFixtures.ecdsa256, .ecdsaP256, 256, KeyFixtures.ecdsa256Fingerprint),
        (KeyFixtures.ecdsa384, .ecdsaP384, 384, KeyFixtures.ecdsa384Fingerprint),
        (KeyFixtures.ecdsa521, .ecdsaP521, 521, KeyFixtures.ecdsa521Fingerprint),
        (KeyFixtures.rsa3072, .rsa, 3072, KeyFixtures.rsa3072Fingerprint),
    ])
    func acceptedKeysParseWithSSHKeygensFingerprint(line: String, algorithm: OpenSSHPublicKey.Algorithm, bits: Int, fingerprint: String)
        throws
    {
        let key = try OpenSSHPublicKey(parsing: "  " + line + "\n")
        #expect(key.algorithm == algorithm)
        #expect(key.bits == bits)
        #expect(key.fingerprint == fingerprint)
        #expect(key.line == line)
        #expect(key.comment.hasPrefix("test-"))
        #expect(try OpenSSHPublicKey(blob: key.blob) == OpenSSHPublicKey(parsing: line.split(separator: " ")[0...1].joined(separator: " ")))
    }

    @Test func weakAndRetiredKeysAreRefusedWithTheirReason() {
        #expect(throws: OpenSSHKeyError.weakRSA(bits: 2048)) { try OpenSSHPublicKey(parsing: KeyFixtures.rsa2048) }
        #expect(OpenSSHKeyError.weakRSA(bits: 2048).description.contains("2048 bits; at least 3072"))
        #expect(throws: OpenSSHKeyError.dsa) { try OpenSSHPublicKey(parsing: KeyFixtures.dsa) }
        #expect(OpenSSHKeyError.dsa.description.contains("DSA"))
    }

    @Test func garbageIsRefused() {
        let ed = KeyFixtures.ed25519.split(separator: " ").map(String.init)
        let ecdsa = KeyFixtures.ecdsa256.split(separator: " ").map(String.init)
        let cases: [(String, OpenSSHKeyError)] = [
            ("", .notOpenSSH),
            ("ssh-ed25519", .notOpenSSH),
            ("ssh-ed25519 not*base64", .notOpenSSH),
            ("hello world", .unsupportedAlgorithm("hello")),
            ("ssh-ed25519-cert-v01@openssh.com AAAA", .certificate),
            // The written type must be the encoded one.
            ("ssh-rsa " + ed[1], .mismatchedAlgorithm),
            ("ecdsa-sha2-nistp384 " + ecdsa[1], .mismatchedAlgorithm),
            // Cut short, and with bytes after the key.
            ("ssh-ed25519 " + Data(Data(base64Encoded: ed[1])!.dropLast(3)).base64EncodedString(), .notOpenSSH),
            ("ssh-ed25519 " + (Data(base64Encoded: ed[1])! + Data([0, 0, 0, 0])).base64EncodedString(), .notOpenSSH),
        ]
        for (line, error) in cases {
            #expect(throws: error, "\(line)") { try OpenSSHPublicKey(parsing: line) }
        }
        // A point off the curve.
        var blob = [UInt8](Data(base64Encoded: ecdsa[1])!)
        blob[blob.count - 1] ^= 0x55
        let offCurve = #expect(throws: OpenSSHKeyError.self) { try OpenSSHPublicKey(blob: blob) }
        #expect(offCurve.map { "\($0)" }?.contains("not on nistp256") == true)
    }
}
