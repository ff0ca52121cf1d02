import Foundation
import OpenSSHFormats
import Testing

@Suite struct OpenSSHCertificateTests {
    let authority = OpenSSHCAKey.generate().key
    let after = Date(timeIntervalSince1970: 1_795_000_000)

    func certificate(_ key: String, serial: UInt64 = 7, keyID: String = "grant-1") throws -> OpenSSHUserCertificate {
        OpenSSHUserCertificate(
            publicKey: try OpenSSHPublicKey(parsing: key), serial: serial, keyID: keyID,
            principals: ["acme.gpu-a1.ubuntu", "acme.gpu-a1.ops"],
            validAfter: after, validBefore: after + 3600, forceCommand: "nvidia-smi -L", sourceAddresses: ["10.0.0.0/8", "127.0.0.1/32"],
            permitPTY: true, permitPortForwarding: true)
    }

    @Test(arguments: [KeyFixtures.ed25519, KeyFixtures.ecdsa256, KeyFixtures.rsa3072])
    func sshKeygenReadsEveryField(key: String) throws {
        let directory = try SSHKeygen.directory()
        let file = directory.appendingPathComponent("id-cert.pub")
        try (try certificate(key).line(signedBy: authority) + "\n").write(to: file, atomically: true, encoding: .utf8)
        let listed = try SSHKeygen.run(["-L", "-f", file.path])
        #expect(listed.status == 0, "\(listed.output)")
        let type = try OpenSSHPublicKey(parsing: key).algorithm.certificateType
        let fingerprint = try OpenSSHPublicKey(parsing: key).fingerprint
        for expected in [
            "Type: \(type) user certificate", "Public key: ", fingerprint, "Signing CA: ED25519 \(authority.publicKey.fingerprint)",
            "Key ID: \"grant-1\"", "Serial: 7", "acme.gpu-a1.ubuntu", "acme.gpu-a1.ops",
            "force-command nvidia-smi -L", "source-address 10.0.0.0/8,127.0.0.1/32", "permit-port-forwarding", "permit-pty",
        ] {
            #expect(listed.output.contains(expected), "missing \(expected) in \(listed.output)")
        }
        // The window, in whole seconds of UTC as ssh-keygen prints it in this zone.
        #expect(listed.output.contains("Valid: from "))
        let withoutPTY = try SSHKeygen.run([
            "-L", "-f",
            try write(
                OpenSSHUserCertificate(
                    publicKey: try OpenSSHPublicKey(parsing: key), serial: 8, keyID: "k", principals: ["p"],
                    validAfter: after, validBefore: after + 60, permitPTY: false), in: directory),
        ])
        #expect(withoutPTY.status == 0)
        #expect(!withoutPTY.output.contains("permit-pty") && withoutPTY.output.contains("Critical Options: (none)"))
    }

    @Test func aCertificateNeedsPrincipalsAndAWindow() throws {
        var noNames = try certificate(KeyFixtures.ed25519)
        noNames.principals = []
        #expect(throws: OpenSSHCertificateError.self) { try noNames.signed(by: authority) }
        var backwards = try certificate(KeyFixtures.ed25519)
        backwards.validBefore = backwards.validAfter
        #expect(throws: OpenSSHCertificateError.self) { try backwards.signed(by: authority) }
    }

    @Test func theKRLRevokesBySerialAndByKeyIDUnderItsCA() throws {
        let directory = try SSHKeygen.directory()
        let bySerial = try write(try certificate(KeyFixtures.ed25519, serial: 41, keyID: "grant-a"), in: directory)
        let byKeyID = try write(try certificate(KeyFixtures.ecdsa256, serial: 42, keyID: "grant-b"), in: directory)
        let untouched = try write(try certificate(KeyFixtures.rsa3072, serial: 43, keyID: "grant-c"), in: directory)
        let other = OpenSSHCAKey.generate().key
        let otherCA = directory.appendingPathComponent("other-cert.pub")
        try (try certificate(KeyFixtures.ed25519, serial: 41, keyID: "grant-b").line(signedBy: other)).write(
            to: otherCA, atomically: true, encoding: .utf8)

        let krl = OpenSSHKRL(
            version: 3, generated: after, comment: "purser", authority: authority.publicKey, serials: [41, 41, 0], keyIDs: ["grant-b"])
        let file = directory.appendingPathComponent("revoked.krl")
        try Data(krl.bytes).write(to: file)
        for (certificate, revoked) in [(bySerial, true), (byKeyID, true), (untouched, false), (otherCA.path, false)] {
            let result = try SSHKeygen.run(["-Q", "-f", file.path, certificate])
            #expect(result.status == (revoked ? 1 : 0), "\(certificate): \(result.output)")
            #expect(result.output.contains(revoked ? "REVOKED" : "ok"), "\(result.output)")
        }
        // An empty list parses and revokes nothing.
        try Data(OpenSSHKRL(version: 1, generated: after, authority: authority.publicKey, serials: [], keyIDs: []).bytes).write(to: file)
        #expect(try SSHKeygen.run(["-Q", "-f", file.path, bySerial]).status == 0)
    }

    @Test func theCAKeyRoundTripsThroughItsSeed() throws {
        let (key, seed) = OpenSSHCAKey.generate()
        #expect(seed.count == 32)
        #expect(try OpenSSHCAKey(seed: seed).publicBlob == key.publicBlob)
        #expect(key.publicKeyLine(comment: "purser-ca").hasPrefix("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"))
        #expect(throws: (any Error).self) { try OpenSSHCAKey(seed: [1, 2, 3]) }
    }

    private func write(_ certificate: OpenSSHUserCertificate, in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("\(certificate.keyID)-\(certificate.serial)-cert.pub")
        try (try certificate.line(signedBy: authority) + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
}

@Suite struct OpenSSHEd25519KeyTests {
    @Test func sshKeygenReadsTheKeyFileAndDerivesItsPublicKey() throws {
        let key = OpenSSHEd25519Key()
        let file = try SSHKeygen.directory().appendingPathComponent("id_ed25519")
        try key.privateKeyFile(comment: "purser-ephemeral").write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let derived = try SSHKeygen.run(["-y", "-f", file.path])
        #expect(derived.status == 0, "\(derived.output)")
        #expect(try OpenSSHPublicKey(parsing: derived.output).blob == key.publicKey.blob)
        #expect(OpenSSHEd25519Key().publicKey.blob != key.publicKey.blob)
    }
}
