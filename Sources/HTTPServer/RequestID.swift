// Request identifiers: the caller's `X-Request-Id` when it is sane, else one of ours.
import Synchronization

enum RequestID {
    /// A random per-process prefix, so ids from several nodes do not collide.
    private static let prefix: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return Array(String(generator.next() as UInt32, radix: 16).utf8)
    }()
    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let counter = ShardedCounter()

    /// Short, unique per process and cheap: `<prefix><slot>-<count>` in hex, where each thread
    /// counts in its own slot (no shared counter for the I/O threads to contend on).
    static func next() -> String {
        let (slot, count) = counter.next()
        let value = UInt64(count)
        let width = max(1, (64 - value.leadingZeroBitCount + 3) / 4)
        return String(unsafeUninitializedCapacity: prefix.count + 2 + width) { buffer in
            for (index, byte) in prefix.enumerated() { buffer[index] = byte }
            buffer[prefix.count] = hexDigits[slot & 0xF]
            buffer[prefix.count + 1] = UInt8(ascii: "-")
            let start = prefix.count + 2
            for digit in 0..<width {
                buffer[start + width - 1 - digit] = hexDigits[Int((value >> (UInt64(digit) * 4)) & 0xF)]
            }
            return start + width
        }
    }

    /// Accepts up to 64 characters of letters, digits, `.`, `_`, `-`; anything else could poison logs.
    static func accepts(_ candidate: String) -> Bool {
        !candidate.isEmpty && candidate.utf8.count <= 64
            && candidate.utf8.allSatisfy { byte in
                (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                    || byte == 45 || byte == 46 || byte == 95
            }
    }
}
