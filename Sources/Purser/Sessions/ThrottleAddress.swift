// The address a failed sign-in is counted against. An IPv6 client is usually handed a whole /64
// (and picks a fresh address in it at will, RFC 8981), so counting per IPv6 address would give one
// client 2^64 fresh counters: an IPv6 address counts as its /64. IPv4 addresses count alone, and an
// IPv4 address written in IPv6 form (::ffff:192.0.2.1) counts as that IPv4 address.
import Foundation

enum ThrottleAddress {
    /// The throttle's name for `address`: `192.0.2.1`, `2001:db8:1:2::/64`, or the text as given
    /// (at most 64 characters) when it is not an address.
    static func canonical(_ address: String) -> String {
        var text = Substring(address)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { text = text[text.index(after: text.startIndex)..<close] }
        // A zone (fe80::1%eth0) names an interface, not another client.
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(text), &v4) == 1 { return String(text) }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, String(text), &v6) == 1 else { return String(address.prefix(64)) }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
