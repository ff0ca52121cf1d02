// Programs started with posix_spawn and reaped with waitpid. Foundation's Process waits on
// descriptors that grandchildren inherit (pg_ctl's server, chromedriver's browser) and so can hang.
import Foundation

public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private var exitStatus: Int32?

    /// Starts `argv` (an absolute path first) with stdin from /dev/null and stdout and stderr
    /// appended to `output`; `environment` nil passes ours on. The child runs in a process group of
    /// its own (so `stop` reaches what it starts) with no signals blocked.
    public init(_ argv: [String], environment: [String: String]? = nil, output: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Callers may block SIGTERM/SIGINT to sigwait for them; the child must not inherit that.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        var arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in arguments { free(pointer) } }
        let pairs = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var environ: [UnsafeMutablePointer<CChar>?] = pairs.map { strdup($0) } + [nil]
        defer { for pointer in environ { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, &arguments, &environ)
        guard result == 0 else {
            throw LocalCluster.ClusterError.commandFailed(argv.joined(separator: " "), output: String(cString: strerror(result)))
        }
        self.pid = pid
    }

    /// Waits for the process to end by itself; returns its exit status (128+n after signal n).
    @discardableResult
    public func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        return code
    }

    /// Sends `signal` to the process group, waits for the process, then kills whatever it left
    /// in its group; returns its exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        if let exitStatus { return exitStatus }
        kill(-pid, signal)
        let code = wait()
        kill(-pid, SIGKILL)
        return code
    }

    /// Runs `argv` to completion; returns its exit status and what it wrote to stdout and stderr.
    /// Output goes through a file, not a pipe: a daemon the program starts (pg_ctl's server)
    /// inherits the descriptors and would hold a pipe open for its whole life.
    public static func output(_ argv: [String], environment: [String: String]? = nil) throws -> (status: Int32, text: String) {
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("purser-run-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: capture) }
        let status = try run(argv, environment: environment, output: capture.path)
        return (status, (try? String(contentsOf: capture, encoding: .utf8)) ?? "")
    }

    /// Runs `argv` to completion; returns its exit status.
    public static func run(_ argv: [String], environment: [String: String]? = nil, output: String = "/dev/null") throws -> Int32 {
        try ChildProcess(argv, environment: environment, output: output).wait()
    }
}
