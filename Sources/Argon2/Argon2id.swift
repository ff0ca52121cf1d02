// argon2id through libargon2: the thin wrapper, so the pointer handling stays out of the domain.
// Blocking and memory-hungry by design (m KiB per call): callers bound how many run at once.
import CArgon2

public enum Argon2id {
    public struct Parameters: Sendable, Equatable {
        /// Memory in KiB; OWASP's floor for argon2id is 19456 (19 MiB) with t=2, p=1.
        public var memoryKiB: UInt32
        public var iterations: UInt32
        public var parallelism: UInt32

        public init(memoryKiB: UInt32 = 19456, iterations: UInt32 = 2, parallelism: UInt32 = 1) {
            self.memoryKiB = memoryKiB
            self.iterations = iterations
            self.parallelism = parallelism
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String { String(cString: argon2_error_message(code)) }
    }

    /// libargon2 mallocs its m KiB per call. glibc raises its mmap threshold after the first such
    /// block is freed, after which every worker thread's arena keeps its own 19 MiB block for good
    /// (hundreds of MiB after a burst of sign-ins). A fixed threshold keeps blocks this large on
    /// mmap, returned to the system as each hash ends. Set once, before the first hash.
    private static let fixedMmapThreshold: Void = {
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
    }()

    /// The standard encoded form, `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, with a 32-byte hash.
    public static func hash(_ password: [UInt8], salt: [UInt8], parameters: Parameters = Parameters()) throws -> String {
        _ = fixedMmapThreshold
        let hashLength = 32
        let encodedLength = argon2_encodedlen(
            parameters.iterations, parameters.memoryKiB, parameters.parallelism,
            UInt32(salt.count), UInt32(hashLength), Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let result = password.withUnsafeBytes { passwordBytes in
            salt.withUnsafeBytes { saltBytes in
                argon2id_hash_encoded(
                    parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                    passwordBytes.baseAddress, password.count, saltBytes.baseAddress, salt.count,
                    hashLength, &encoded, encodedLength)
            }
        }
        guard result == ARGON2_OK.rawValue else { throw Failure(code: result) }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `password` matches `encoded`; false for a mismatch or an unreadable hash.
    public static func verify(_ password: [UInt8], encoded: String) -> Bool {
        _ = fixedMmapThreshold
        let result = password.withUnsafeBytes { passwordBytes in
            argon2id_verify(encoded, passwordBytes.baseAddress, password.count)
        }
        return result == ARGON2_OK.rawValue
    }
}
