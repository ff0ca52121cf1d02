// The live SSH side effect: /usr/bin/ssh with everything it needs in a private temporary folder —
// the key (0600, for -i), its certificate, and a known-hosts file made from the host row's keys —
// and nothing from the node's own ~/.ssh: no config, no agent, no other keys, no known hosts, no
// questions (BatchMode), a host key that must match (StrictHostKeyChecking=yes) and short timeouts.
// The folder is removed when the connection ends.
import Foundation
import class HTTPServer.Locked

public struct OpenSSHClient: SecureShell {
    public let sourceAddresses: [String]
    let program: String

    public init(sourceAddresses: [String], program: String = "/usr/bin/ssh") {
        self.sourceAddresses = sourceAddresses
        self.program = program
    }

    /// The alias the known-hosts file names the host by, whatever its address and port.
    static let hostAlias = "purser-gpu-host"

    public func run(_ command: String, on destination: SSHDestination, with credentials: SSHCredentials, timeout: TimeInterval) throws
        -> SSHOutcome
    {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("purser-ssh-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("id_ed25519")
        let certificate = folder.appendingPathComponent("id_ed25519-cert.pub")
        let knownHosts = folder.appendingPathComponent("known_hosts")
        // Made 0600 before the key is written into it.
        guard FileManager.default.createFile(atPath: key.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        try Data(credentials.privateKeyFile.utf8).write(to: key)
        try Data((credentials.certificate + "\n").utf8).write(to: certificate)
        // Pinned keys under a fixed alias; or, with a host CA, its one `@cert-authority` line for the
        // host's name, which the host's certificate must list.
        var alias = Self.hostAlias
        var known = destination.hostKeys.map { Self.hostAlias + " " + $0 + "\n" }.joined()
        if let authority = destination.hostCertificateAuthority {
            alias = authority.hostName
            known = "@cert-authority \(authority.hostName) \(authority.publicKey)\n"
        }
        try Data(known.utf8).write(to: knownHosts)
        let connect = max(1, Int(min(timeout, 10)))
        let arguments = [
            "-F", "/dev/null", "-T", "-a", "-x",
            "-i", key.path, "-o", "CertificateFile=" + certificate.path, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "UserKnownHostsFile=" + knownHosts.path, "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=" + alias, "-o", "CheckHostIP=no",
            "-o", "UpdateHostKeys=no", "-o", "BatchMode=yes", "-o", "PasswordAuthentication=no",
            "-o", "KbdInteractiveAuthentication=no", "-o", "ConnectTimeout=\(connect)", "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=2", "-o", "LogLevel=ERROR",
            "-p", String(destination.port), "-l", destination.login, "--", destination.address, command,
        ]
        return try Self.execute(program, arguments, errorsTo: folder.appendingPathComponent("errors"), timeout: timeout)
    }

    /// Runs the client, killing it after `timeout` seconds of real time (a host that accepts the
    /// connection and then says nothing must not hold a worker).
    static func execute(_ program: String, _ arguments: [String], errorsTo errorsFile: URL, timeout: TimeInterval) throws -> SSHOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        process.standardOutput = output
        FileManager.default.createFile(atPath: errorsFile.path, contents: nil)
        let errors = try FileHandle(forWritingTo: errorsFile)
        defer { try? errors.close() }
        process.standardError = errors
        try process.run()
        let timedOut = Locked(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            if process.isRunning {
                timedOut.withLock { $0 = true }
                process.terminate()
            }
        }
        // At most 1 MiB of output is kept; the health command prints a few lines.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let messages = (try? String(contentsOf: errorsFile, encoding: .utf8)) ?? ""
        return SSHOutcome(
            status: process.terminationStatus, output: String(decoding: data.prefix(1 << 20), as: UTF8.self),
            errors: String(messages.prefix(4000)), timedOut: timedOut.withLock { $0 })
    }
}
