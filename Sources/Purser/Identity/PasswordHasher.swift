// Password hashing with argon2id, bounded: each hash takes ~19 MiB and tens of milliseconds of a
// core, so hashes queue in lanes, and an attempt that finds its lane full gets a quick "busy"
// instead of tying up a worker thread. Sign-ins from anyone share one lane (2 running, 3 more
// waiting per node, with 16 worker threads or more); a browser that signed in as a person before (its device cookie names them)
// signs in as that person through a small lane of its own (1 running, 2 waiting, one place per
// person), so a flood of sign-ins with made-up emails, which fills the shared lane, cannot keep
// known people out.
import Argon2
import Foundation

public final class PasswordHasher: Sendable {
    public let parameters: Argon2id.Parameters
    let shared: HashLane
    let known: HashLane
    /// A hash of a random password, verified against when the account does not exist, so an
    /// unknown email takes as long as a wrong password.
    private let decoy: String

    /// Which lane an attempt queues in.
    public enum Lane: Sendable, Equatable {
        case shared
        /// A sign-in as the person a valid device cookie names.
        case known(UUID)
    }

    public struct Busy: DomainError {
        public var refusal: Refusal { .tooMany }
        public var detail: String? { "Too many sign-ins at once; try again in a moment." }
        public var retryAfterSeconds: Int? { 1 }
    }

    /// A place held in a lane: taken before an attempt is counted (so a full lane refuses at once,
    /// costing nothing), given up when the attempt is done. Used by one thread.
    public final class Place {
        private let lane: HashLane
        private let person: UUID?
        private let hasher: PasswordHasher
        private var held = true

        fileprivate init(lane: HashLane, person: UUID?, hasher: PasswordHasher) {
            self.lane = lane
            self.person = person
            self.hasher = hasher
        }

        deinit { leave() }

        /// Checks `password` against `encoded`; with no stored hash it still does the work, then fails.
        public func verify(_ password: String, against encoded: String?) -> Bool {
            lane.run {
                let matches = Argon2id.verify(Array(password.utf8), encoded: encoded ?? hasher.decoy)
                return encoded != nil && matches
            }
        }

        /// A new encoded hash with a fresh 16-byte salt.
        public func hash(_ password: String) throws -> String {
            try lane.run { try Argon2id.hash(Array(password.utf8), salt: PasswordHasher.salt(), parameters: hasher.parameters) }
        }

        /// Gives the place up (again is harmless).
        public func leave() {
            guard held else { return }
            held = false
            lane.leave(person: person)
        }
    }

    public init(
        parameters: Argon2id.Parameters = Argon2id.Parameters(), concurrent: Int = 2, maxWaiting: Int = 4,
        knownConcurrent: Int = 1, knownWaiting: Int = 2
    ) throws {
        self.parameters = parameters
        shared = HashLane(running: concurrent, places: concurrent + maxWaiting)
        known = HashLane(running: knownConcurrent, places: knownConcurrent + knownWaiting)
        var generator = SystemRandomNumberGenerator()
        let random = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        decoy = try Argon2id.hash(random, salt: Self.salt(), parameters: parameters)
    }

    /// Lanes that together hold at most half of the server's `workerThreads` (waiting attempts hold
    /// a worker thread each; below four threads, one place each), at most the default sizes: from
    /// 16 threads up, 2 running and 3 waiting for everyone, 1 running and 2 waiting for known people.
    public convenience init(workerThreads: Int, parameters: Argon2id.Parameters = Argon2id.Parameters()) throws {
        let budget = max(2, workerThreads / 2)
        let known = min(3, max(1, budget - 5))
        let shared = min(6, budget - known)
        try self.init(
            parameters: parameters, concurrent: min(2, shared), maxWaiting: shared - min(2, shared), knownConcurrent: 1,
            knownWaiting: known - 1)
    }

    /// A place in `lane`, or `Busy`. A known person whose lane is full (or who holds its place
    /// already, a second tab) queues with everyone else.
    public func admit(_ lane: Lane = .shared) throws -> Place {
        if case .known(let person) = lane, known.enter(person: person) {
            return Place(lane: known, person: person, hasher: self)
        }
        guard shared.enter(person: nil) else { throw Busy() }
        return Place(lane: shared, person: nil, hasher: self)
    }

    /// A new encoded hash with a fresh 16-byte salt, in the shared lane.
    public func hash(_ password: String) throws -> String {
        let place = try admit()
        defer { place.leave() }
        return try place.hash(password)
    }

    /// Checks `password` against `encoded` in the shared lane.
    public func verify(_ password: String, against encoded: String?) throws -> Bool {
        let place = try admit()
        defer { place.leave() }
        return place.verify(password, against: encoded)
    }

    /// True when `encoded` was made with weaker parameters than today's (rehash at next sign-in).
    public func needsRehash(_ encoded: String) -> Bool {
        !encoded.hasPrefix("$argon2id$v=19$m=\(parameters.memoryKiB),t=\(parameters.iterations),p=\(parameters.parallelism)$")
    }

    static func salt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
