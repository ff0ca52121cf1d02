// Password hashing with argon2id, bounded: at most a few hashes run at once (each takes ~19 MiB
// and tens of milliseconds of a core), and only a few more may wait, so a burst of sign-ins gets
// a quick "busy" instead of tying up every worker thread.
import Argon2
import Foundation
import HTTPServer

public final class PasswordHasher: Sendable {
    public let parameters: Argon2id.Parameters
    private let slots: DispatchSemaphore
    private let waiting = Locked(0)
    private let maxWaiting: Int
    /// A hash of a random password, verified against when the account does not exist, so an
    /// unknown email takes as long as a wrong password.
    private let decoy: String

    public struct Busy: HTTPResponseError {
        public var status: HTTPStatus { .tooManyRequests }
        public var detail: String? { "Too many sign-ins at once; try again in a moment." }
        public var headers: HTTPHeaders { HTTPHeaders([("Retry-After", "1")]) }
    }

    public init(parameters: Argon2id.Parameters = Argon2id.Parameters(), concurrent: Int = 2, maxWaiting: Int = 16) throws {
        self.parameters = parameters
        self.slots = DispatchSemaphore(value: concurrent)
        self.maxWaiting = maxWaiting
        var generator = SystemRandomNumberGenerator()
        let random = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        decoy = try Argon2id.hash(random, salt: Self.salt(), parameters: parameters)
    }

    /// A new encoded hash with a fresh 16-byte salt.
    public func hash(_ password: String) throws -> String {
        try bounded { try Argon2id.hash(Array(password.utf8), salt: Self.salt(), parameters: parameters) }
    }

    /// Checks `password` against `encoded`; with no stored hash it still does the work, then fails.
    public func verify(_ password: String, against encoded: String?) throws -> Bool {
        try bounded {
            let matches = Argon2id.verify(Array(password.utf8), encoded: encoded ?? decoy)
            return encoded != nil && matches
        }
    }

    /// True when `encoded` was made with weaker parameters than today's (rehash at next sign-in).
    public func needsRehash(_ encoded: String) -> Bool {
        !encoded.hasPrefix("$argon2id$v=19$m=\(parameters.memoryKiB),t=\(parameters.iterations),p=\(parameters.parallelism)$")
    }

    private func bounded<T>(_ work: () throws -> T) throws -> T {
        let admitted = waiting.withLock { count -> Bool in
            guard count < maxWaiting else { return false }
            count += 1
            return true
        }
        guard admitted else { throw Busy() }
        slots.wait()
        defer {
            slots.signal()
            waiting.withLock { $0 -= 1 }
        }
        return try work()
    }

    static func salt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
