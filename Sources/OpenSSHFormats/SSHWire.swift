// The SSH wire encoding (RFC 4251 §5) that keys, certificates and KRLs are made of: big-endian
// integers, length-prefixed strings and mpints.

/// Appends values in the SSH wire encoding.
struct SSHWriter {
    private(set) var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func uint32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func uint64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func string(_ value: [UInt8]) {
        uint32(UInt32(value.count))
        bytes += value
    }

    mutating func string(_ value: String) { string(Array(value.utf8)) }

    /// Bytes already encoded (a field whose parts were written elsewhere), without a length.
    mutating func raw(_ value: [UInt8]) { bytes += value }
}

/// Reads values in the SSH wire encoding; every read fails rather than run past the end.
struct SSHReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func uint32() throws(SSHWireError) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw SSHWireError.truncated }
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func uint64() throws(SSHWireError) -> UInt64 {
        guard bytes.count - offset >= 8 else { throw SSHWireError.truncated }
        defer { offset += 8 }
        return bytes[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func byte() throws(SSHWireError) -> UInt8 {
        guard offset < bytes.count else { throw SSHWireError.truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func string() throws(SSHWireError) -> [UInt8] {
        let length = Int(try uint32())
        guard bytes.count - offset >= length else { throw SSHWireError.truncated }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    mutating func text() throws(SSHWireError) -> String {
        let value = try string()
        guard let text = String(validating: value, as: UTF8.self) else { throw SSHWireError.notText }
        return text
    }

    /// The rest of the input, unread.
    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }
}

enum SSHWireError: Error {
    case truncated
    case notText
}
