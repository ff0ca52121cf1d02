// Time-ordered identifiers (RFC 9562 version 7): rows inserted together sit together in indexes,
// and no database extension is needed to make them.
import Foundation

extension UUID {
    /// A version 7 UUID: 48 bits of Unix milliseconds, then random bits.
    /// `date` is the clock's time of the row it names (the World's clock, never the system's).
    public static func v7(at date: Date) -> UUID {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(index))) }
        let random: UInt64 = generator.next()
        let more: UInt64 = generator.next()
        for index in 6..<16 {
            let source = index < 14 ? random >> (8 * UInt64(index - 6)) : more >> (8 * UInt64(index - 14))
            bytes[index] = UInt8(truncatingIfNeeded: source)
        }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // RFC 9562 variant
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// The creation time of a version 7 UUID, to the millisecond; nil for other versions.
    public var v7Date: Date? {
        let bytes = uuid
        guard bytes.6 >> 4 == 7 else { return nil }
        let milliseconds = [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
