// A long-running helper program (chromedriver, purser serve) started with posix_spawn and ended
// with a signal. Foundation's Process waits on descriptors that grandchildren inherit, which hangs
// when the program leaves a browser or a database behind.
import Foundation

public final class BackgroundProcess: @unchecked Sendable {
    public let pid: pid_t
    private var exitStatus: Int32?

    /// Starts `argv` with `environment` (nil: ours), output appended to `output`.
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
        // Its own process group, so that stopping it also stops what it started.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        var arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in arguments { free(pointer) } }
        let pairs = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var environ: [UnsafeMutablePointer<CChar>?] = pairs.map { strdup($0) } + [nil]
        defer { for pointer in environ { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, &arguments, &environ)
        guard result == 0 else { throw TestSetupError("could not start \(argv[0]): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Sends `signal` to the process and waits for it; returns its exit status (128+n for a signal).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        if let exitStatus { return exitStatus }
        kill(-pid, signal)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        kill(-pid, SIGKILL)  // anything it left behind in its group
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        return code
    }

    /// Waits for the process to end by itself; returns its exit status.
    @discardableResult
    public func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        return code
    }

    deinit { stop(signal: SIGKILL) }
}
