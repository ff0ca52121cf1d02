// SSH to GPU hosts as a side effect of the World: Purser's health and drain commands reach hosts
// through it, with a key made for the one connection and a certificate of minutes. The live one runs
// the OpenSSH client (OpenSSHClient.swift); tests run it against a real sshd on loopback.
import Foundation

/// Where to connect and how to know the host: its keys come from the host's row, never from a
/// first connection.
public struct SSHDestination: Sendable {
    public var address: String
    public var port: Int
    public var login: String
    /// The host's public keys, one OpenSSH line each.
    public var hostKeys: [String]
    /// Instead of pinned keys: the CA whose host certificates are trusted (`@cert-authority`), and
    /// the name the certificate must list as a principal (the host's name in the inventory).
    public var hostCertificateAuthority: (publicKey: String, hostName: String)?

    public init(
        address: String, port: Int, login: String, hostKeys: [String],
        hostCertificateAuthority: (publicKey: String, hostName: String)? = nil
    ) {
        self.address = address
        self.port = port
        self.login = login
        self.hostKeys = hostKeys
        self.hostCertificateAuthority = hostCertificateAuthority
    }
}

/// The key for one connection and the certificate that lets it in.
public struct SSHCredentials: Sendable {
    /// The private key, as an OpenSSH private key file.
    public var privateKeyFile: String
    /// The certificate, one OpenSSH line (`…-cert-v01@openssh.com AAAA… id`).
    public var certificate: String

    public init(privateKeyFile: String, certificate: String) {
        self.privateKeyFile = privateKeyFile
        self.certificate = certificate
    }
}

/// What came back: the remote command's status (255: ssh itself failed: unreachable, refused,
/// host key mismatch, timed out), its output and ssh's messages.
public struct SSHOutcome: Sendable {
    public var status: Int32
    public var output: String
    public var errors: String
    public var timedOut: Bool

    public init(status: Int32, output: String, errors: String, timedOut: Bool = false) {
        self.status = status
        self.output = output
        self.errors = errors
        self.timedOut = timedOut
    }

    /// ssh's own failure rather than the command's.
    public var connectionFailed: Bool { status == 255 || timedOut }
}

public protocol SecureShell: Sendable {
    /// The addresses (CIDR) Purser's nodes connect from: certificates Purser signs for itself carry
    /// them as `source-address`.
    var sourceAddresses: [String] { get }
    /// Runs `command` on `destination`, giving up after `timeout` seconds.
    func run(_ command: String, on destination: SSHDestination, with credentials: SSHCredentials, timeout: TimeInterval) throws
        -> SSHOutcome
}
