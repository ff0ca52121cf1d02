// A real OpenSSH server for tests, started by the test (never as a system service) on an ephemeral
// loopback port with a private folder: its own host key, Purser's CA in TrustedUserCAKeys, a KRL the
// test writes (from GET /api/v1/ssh/krl) in RevokedKeys, and AuthorizedPrincipalsFile naming the
// principals the test user (the current user) may log in with. It runs as the current user with
// StrictModes off (the folder is under /tmp). Its PATH starts with the folder's bin/, where
// `nvidia-smi` is a script printing NVIDIA's documented CSV.
import Foundation
import HTTPServerTesting
import Postgres

public final class SSHPeer: @unchecked Sendable {
    public let port: Int
    public let folder: URL
    /// The host's public key line (what the host row stores).
    public let hostKey: String
    /// The login the test user has (the current user).
    public let login: String
    private let process: ChildProcess
    private let log: URL

    public var revokedKeys: URL { folder.appendingPathComponent("revoked.krl") }
    public var bin: URL { folder.appendingPathComponent("bin") }

    /// `caPublicKey`: the CA's line; `principals`: what the test user may log in as; `krl`: the
    /// initial revocation list's bytes; `hostCertificate`, when given, signs the host key's line and
    /// sshd presents what it returns (`HostCertificate`).
    public init(
        caPublicKey: String, principals: [String], krl: [UInt8], hostCertificate: ((String) throws -> String)? = nil
    ) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sshd-\(UUID().uuidString)")
        let bin = folder.appendingPathComponent("bin")
        let revokedKeys = folder.appendingPathComponent("revoked.krl")
        self.folder = folder
        let fm = FileManager.default
        try fm.createDirectory(at: folder.appendingPathComponent("principals"), withIntermediateDirectories: true)
        try fm.createDirectory(at: folder.appendingPathComponent("bin"), withIntermediateDirectories: true)
        let login = ProcessInfo.processInfo.environment["USER"] ?? (getuid() == 0 ? "root" : NSUserName())
        let hostKeyFile = folder.appendingPathComponent("host_ed25519")
        let made = try ChildProcess.output(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKeyFile.path])
        guard made.status == 0 else { throw TestSetupError("ssh-keygen: \(made.text)") }
        hostKey = try String(contentsOf: hostKeyFile.appendingPathExtension("pub"), encoding: .utf8).split(separator: " ").prefix(2)
            .joined(separator: " ")
        var presents = ""
        if let hostCertificate {
            let file = folder.appendingPathComponent("host_ed25519-cert.pub")
            try (try hostCertificate(hostKey) + "\n").write(to: file, atomically: true, encoding: .utf8)
            presents = "HostCertificate \(file.path)\n"
        }
        try (caPublicKey + "\n").write(to: folder.appendingPathComponent("ca.pub"), atomically: true, encoding: .utf8)
        try Data(krl).write(to: folder.appendingPathComponent("revoked.krl"))
        try (principals.joined(separator: "\n") + "\n").write(
            to: folder.appendingPathComponent("principals").appendingPathComponent(login), atomically: true, encoding: .utf8)
        self.login = login
        try Self.nvidiaSMI.write(to: bin.appendingPathComponent("nvidia-smi"), atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("nvidia-smi").path)
        // Run as root, sshd needs its privilege-separation folder (the package makes it at service start).
        if getuid() == 0 { try? fm.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        let port = RawHTTP.freePort()
        self.port = port
        let config = folder.appendingPathComponent("sshd_config")
        try """
        ListenAddress 127.0.0.1:\(port)
        HostKey \(hostKeyFile.path)
        \(presents)PidFile \(folder.appendingPathComponent("sshd.pid").path)
        UsePAM no
        StrictModes no
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PubkeyAuthentication yes
        AuthorizedKeysFile none
        TrustedUserCAKeys \(folder.appendingPathComponent("ca.pub").path)
        RevokedKeys \(revokedKeys.path)
        AuthorizedPrincipalsFile \(folder.appendingPathComponent("principals").path)/%u
        PermitRootLogin prohibit-password
        SetEnv PATH=\(bin.path):/usr/bin:/bin
        LogLevel VERBOSE

        """.write(to: config, atomically: true, encoding: .utf8)
        let log = folder.appendingPathComponent("sshd.log")
        self.log = log
        process = try ChildProcess(["/usr/sbin/sshd", "-D", "-e", "-f", config.path], output: log.path)
        // sshd says it listens once its socket is bound (a connection made to find out would be held
        // for its login grace time).
        guard
            waitUntil(
                10, { (try? String(contentsOf: log, encoding: .utf8))?.contains("Server listening on 127.0.0.1 port \(port)") == true })
        else {
            _ = process.stop(signal: SIGKILL)
            throw TestSetupError("sshd did not start: \(self.logText)")
        }
    }

    /// Replaces the principals the test user may log in with.
    public func setPrincipals(_ principals: [String]) throws {
        try (principals.joined(separator: "\n") + "\n").write(
            to: folder.appendingPathComponent("principals").appendingPathComponent(login), atomically: true, encoding: .utf8)
    }

    /// Replaces the KRL (sshd reads it at every authentication).
    public func setKRL(_ bytes: [UInt8]) throws { try Data(bytes).write(to: revokedKeys) }

    /// What sshd logged: why it accepted or refused.
    public var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// A stand-in for `nvidia-smi` on the test host: it prints, for the query Purser sends, two GPUs
    /// in the format NVIDIA documents for `--query-gpu=name,memory.total,memory.used,utilization.gpu,
    /// temperature.gpu --format=csv,noheader,nounits` (nvidia-smi --help-query-gpu): one line per GPU,
    /// values separated by ", ", memory in MiB, utilization in percent, temperature in °C. It is a
    /// script, not NVIDIA's program; a test host has no GPU.
    static let nvidiaSMI = """
        #!/bin/sh
        # Test stand-in for nvidia-smi: prints NVIDIA's documented CSV output for the health query.
        case "$*" in
          *--query-gpu=name,memory.total,memory.used,utilization.gpu,temperature.gpu*--format=csv,noheader,nounits*)
            echo "NVIDIA H100 80GB HBM3, 81559, 40123, 87, 64"
            echo "NVIDIA H100 80GB HBM3, 81559, 512, 0, 35"
            ;;
          *) echo "nvidia-smi (test stand-in): unsupported arguments: $*" >&2; exit 2 ;;
        esac

        """

    deinit {
        _ = process.stop(signal: SIGTERM)
        try? FileManager.default.removeItem(at: folder)
    }
}
