import Foundation
import OpenSSHFormats
import Postgres
@testable import Purser
import Testing
import TestSupport

/// Purser's CA against a real sshd: certificates it signs log in and run a command; a wrong
/// principal, another tenant's principal, an expired certificate and a certificate the KRL revokes
/// are refused by sshd itself. The KRL and the CA's key are served without sign-in.
@Suite(.serialized) struct SSHCertificateTests {
    let app: TestApp
    let authority: SSHCertificateAuthority
    let peer: SSHPeer
    let ssh = OpenSSHClient(sourceAddresses: ["127.0.0.1/32"])

    init() throws {
        let app = try TestApp()
        self.app = app
        // Before the CA is made, there is no key to publish.
        #expect(try app.get(SitePage.sshCAPublicKey.template).status == 404)
        let made = try app.database.connect().transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: TestEnvironment.keyring, at: app.app.world.now)
        }
        #expect(made.created)
        authority = try SSHCertificateAuthority.load(database: app.app.database, keyring: TestEnvironment.keyring)
        peer = try SSHPeer(
            caPublicKey: made.publicKey, principals: [SSHPrincipal.forHost(tenantSlug: "acme", hostName: "gpu-a1", login: "ubuntu")],
            krl: try app.get(SitePage.sshKRL.template).body)
    }

    /// A fresh key and a certificate for it, from the live clock (sshd checks the real time).
    func certified(
        principal: String, keyID: String = "grant-\(UUID().uuidString)", serial: UInt64? = nil, from: TimeInterval = -60,
        to: TimeInterval = 600
    ) throws -> (SSHCredentials, keyID: String, serial: UInt64) {
        let key = OpenSSHEd25519Key()
        let serial = try serial ?? app.app.database.pool.withConnection { try SSHCertificateAuthority.nextSerial($0) }
        let now = LiveClock().now
        let certificate = try authority.sign(
            publicKey: key.publicKey, keyID: keyID, serial: serial, principals: [principal], validAfter: now + from,
            validBefore: now + to, permitPTY: true)
        return (SSHCredentials(privateKeyFile: key.privateKeyFile(), certificate: certificate), keyID, serial)
    }

    func run(_ credentials: SSHCredentials, _ command: String = "echo hello-from-$(id -un)") throws -> SSHOutcome {
        try ssh.run(
            command, on: SSHDestination(address: "127.0.0.1", port: peer.port, login: peer.login, hostKeys: [peer.hostKey]),
            with: credentials, timeout: 15)
    }

    @Test func theCAKeyIsPublishedAndMadeOnce() throws {
        let served = try app.get(SitePage.sshCAPublicKey.template)
        #expect(served.status == 200)
        #expect(served.text == authority.publicKeyLine + "\n")
        let again = try app.database.connect().transaction { tx in
            try SSHCertificateAuthority.initialize(in: tx, keyring: TestEnvironment.keyring, at: app.app.world.now)
        }
        #expect(!again.created && again.publicKey == authority.publicKeyLine)
        // The key is sealed at rest, and opens only with the master key.
        let stored = try app.database.connect().query("SELECT sealed_key FROM ssh_certificate_authority")[0].require(0, as: String.self)
        #expect(stored.hasPrefix("test."))
    }

    @Test func aCertificateForTheHostsPrincipalLogsInAndRunsACommand() throws {
        let (credentials, _, _) = try certified(principal: "acme.gpu-a1.ubuntu")
        let outcome = try run(credentials)
        #expect(outcome.status == 0, "\(outcome.errors)\n\(peer.logText)")
        #expect(outcome.output == "hello-from-\(peer.login)\n")
    }

    @Test func sshdRefusesAWrongPrincipalAnotherTenantsAndAnExpiredCertificate() throws {
        for (principal, from, to, why) in [
            ("acme.gpu-a1.root", -60.0, 600.0, "not in the principals file"),  // another login on the same host
            ("acme.gpu-b7.ubuntu", -60, 600, "another host of the tenant"),
            ("globex.gpu-a1.ubuntu", -60, 600, "another tenant's host of the same name"),
            ("acme.gpu-a1.ubuntu", -600, -60, "expired a minute ago"),
        ] {
            let (credentials, keyID, _) = try certified(principal: principal, from: from, to: to)
            let outcome = try run(credentials)
            #expect(outcome.status == 255, "\(why): \(outcome.output)")
            #expect(outcome.errors.contains("Permission denied"), "\(why): \(outcome.errors)")
            #expect(peer.logText.contains(keyID) || to < 0, "\(why): sshd saw the certificate")
        }
    }

    /// What Purser's own certificates rely on: sshd runs the force-command whatever the client
    /// asks, and refuses a certificate used from outside its source-address.
    @Test func sshdHoldsACertificateToItsCommandAndItsSourceAddress() throws {
        let key = OpenSSHEd25519Key()
        func signed(_ sources: [String]) throws -> SSHCredentials {
            let now = LiveClock().now
            let serial = try app.app.database.pool.withConnection { try SSHCertificateAuthority.nextSerial($0) }
            return SSHCredentials(
                privateKeyFile: key.privateKeyFile(),
                certificate: try authority.sign(
                    publicKey: key.publicKey, keyID: "purser:test:\(serial)", serial: serial, principals: ["acme.gpu-a1.ubuntu"],
                    validAfter: now - 60, validBefore: now + 300, permitPTY: false, sourceAddress: sources, forceCommand: "echo forced"))
        }
        let forced = try run(try signed(["127.0.0.1/32"]), "id")
        #expect(forced.status == 0 && forced.output == "forced\n", "\(forced.errors)")
        let elsewhere = try run(try signed(["10.9.9.9/32"]), "id")
        #expect(elsewhere.status == 255 && elsewhere.errors.contains("Permission denied"), "\(elsewhere.output)")
    }

    @Test func aRevocationReachesSSHDThroughTheKRL() throws {
        let (bySerial, _, serial) = try certified(principal: "acme.gpu-a1.ubuntu")
        let (byKeyID, keyID, _) = try certified(principal: "acme.gpu-a1.ubuntu")
        let (untouched, _, _) = try certified(principal: "acme.gpu-a1.ubuntu")
        #expect(try run(bySerial).status == 0 && run(byKeyID).status == 0)

        let before = try app.get(SitePage.sshKRL.template)
        let etag = try #require(before.header("ETag"))
        #expect(try app.get(SitePage.sshKRL.template, headers: [("If-None-Match", etag)]).status == 304)
        try app.app.database.pool.transaction { tx in
            try SSHRevocations.revoke(
                tx, keyID: "unrelated-\(UUID().uuidString)", serial: serial, reason: "ended early", at: app.app.world.now)
            try SSHRevocations.revoke(tx, keyID: keyID, serial: nil, reason: "ended early", at: app.app.world.now)
        }
        let after = try app.get(SitePage.sshKRL.template, headers: [("If-None-Match", etag)])
        #expect(after.status == 200 && after.header("ETag") != etag)
        #expect(after.header("Content-Type") == "application/octet-stream")
        try peer.setKRL(after.body)

        for credentials in [bySerial, byKeyID] {
            let outcome = try run(credentials)
            #expect(outcome.status == 255 && outcome.errors.contains("Permission denied"), "\(outcome.errors)")
        }
        #expect(peer.logText.contains("revoked"), "\(peer.logText)")
        #expect(try run(untouched).status == 0)
    }
}
