// Hears revocations from every node (NOTIFY purser_token_revoked) and drops the token from this
// node's cache at once; a thread of its own, since waiting on the socket blocks.
import Foundation
import HTTPServer
import Logging
import Postgres

final class RevocationListener: Sendable {
    private let url: String
    private let tokens: TokenStore
    private let logger: Logger
    private let running = Locked(false)

    init(url: String, tokens: TokenStore, logger: Logger) {
        self.url = url
        self.tokens = tokens
        self.logger = logger
    }

    func start() {
        running.withLock { $0 = true }
        let thread = Thread { [self] in listen() }
        thread.name = "token-revocations"
        thread.start()
    }

    func stop() {
        running.withLock { $0 = false }
    }

    private func listen() {
        var listener: Listener?
        while running.withLock({ $0 }) {
            do {
                if listener == nil {
                    listener = try Listener(url: url, channels: [TokenStore.revocationChannel])
                    // Anything revoked while not listening may still be cached: start clean.
                    tokens.forgetAll()
                }
                for notice in try listener!.wait(timeout: .milliseconds(500)) {
                    tokens.forget(lookup: notice.payload)
                }
            } catch {
                logger.warning("token revocation listener lost its connection", metadata: ["error": .string("\(error)")])
                listener = nil
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }
}
