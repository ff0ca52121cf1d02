import Argon2
import Foundation
import HTTPServer
@testable import Purser
import Testing

@Suite struct PasswordHasherTests {
    @Test func hashesAreStandardArgon2idStrings() throws {
        let hasher = try PasswordHasher()
        let encoded = try hasher.hash("correct horse battery staple")
        #expect(encoded.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(encoded.split(separator: "$").count == 5)
        #expect(try hasher.hash("correct horse battery staple") != encoded, "a fresh salt every time")
        #expect(!hasher.needsRehash(encoded))
        #expect(hasher.needsRehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"))
    }

    @Test func verifyAcceptsOnlyTheRightPassword() throws {
        let hasher = try PasswordHasher()
        let encoded = try hasher.hash("ünïcødé pässwörd 🔐")
        #expect(try hasher.verify("ünïcødé pässwörd 🔐", against: encoded))
        #expect(try !hasher.verify("ünïcødé pässwörd", against: encoded))
        #expect(try !hasher.verify("anything", against: nil), "an unknown account never matches")
        #expect(try !hasher.verify("anything", against: "not a hash"))
    }

    @Test func aKnownHashFromTheReferenceImplementationVerifies() throws {
        // From the argon2 command of the reference implementation (Debian package argon2):
        // echo -n password | argon2 somesalt -id -t 2 -m 10 -p 1 -l 32 -e
        let encoded = "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$7FfsnA6vUe7qLpL/3Kqc3uR48ZJyFbUVt7jWZlf0Htk"
        let computed = try Argon2id.hash(
            Array("password".utf8), salt: Array("somesalt".utf8),
            parameters: .init(memoryKiB: 1024, iterations: 2, parallelism: 1))
        #expect(computed == encoded)
        #expect(Argon2id.verify(Array("password".utf8), encoded: encoded))
    }

    @Test func aFloodIsTurnedAwayRatherThanQueuedForever() throws {
        let hasher = try PasswordHasher(
            parameters: .init(memoryKiB: 19456, iterations: 2, parallelism: 1),
            concurrent: 1, maxWaiting: 2)
        let busy = Locked(0)
        let done = DispatchGroup()
        for _ in 0..<8 {
            done.enter()
            Thread.detachNewThread {
                do { _ = try hasher.hash("a long enough password") } catch is PasswordHasher.Busy { busy.withLock { $0 += 1 } } catch {}
                done.leave()
            }
        }
        #expect(done.wait(timeout: .now() + 60) == .success)
        #expect(busy.withLock { $0 } > 0)
    }

    @Test func waitingSignInsNeverHoldMoreThanHalfTheWorkerThreads() throws {
        for workers in [1, 2, 3, 4, 5, 8, 9, 16, 17, 64, 1024] {
            let hasher = try PasswordHasher(
                workerThreads: workers, parameters: Argon2id.Parameters(memoryKiB: 8, iterations: 1, parallelism: 1))
            #expect(hasher.shared.places + hasher.known.places <= max(2, workers / 2), "\(workers) worker threads")
            #expect(hasher.shared.places >= 1 && hasher.known.places >= 1)
            #expect(hasher.shared.places <= 6 && hasher.known.places <= 3, "never more than the default sizes")
        }
    }
}
