// The address a failed sign-in is counted against. An IPv6 client is usually handed a whole /64
// (and picks a fresh address in it at will, RFC 8981), so counting per IPv6 address would give one
// client 2^64 fresh counters: an IPv6 address counts as its /64. IPv4 addresses count alone, and an
// IPv4 address written in IPv6 form (::ffff:192.0.2.1) counts as that IPv4 address.
import struct HTTPServer.IPAddress

enum ThrottleAddress {
    /// The throttle's name for `address`: `192.0.2.1`, `2001:db8:1:2::/64`, or the text as given
    /// (at most 64 characters) when it is not an address.
    static func canonical(_ address: String) -> String {
        guard let parsed = IPAddress(address) else { return String(address.prefix(64)) }
        return parsed.isIPv4 ? parsed.text : parsed.network(bits: 64)
    }
}
