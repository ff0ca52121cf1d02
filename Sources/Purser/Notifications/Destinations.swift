// Tenants choose where notifications go, so a destination must not reach inside the provider's
// network. A URL's host is resolved, every address is checked (private, loopback, link-local,
// cloud metadata, unspecified, multicast: refused), and the connection is pinned to a checked
// address (CURLOPT_RESOLVE) so a second lookup cannot change where it goes. Names are resolved
// through the World's resolver, the one the caller was handed.
import Foundation
import HTTPClient

public struct DestinationPolicy: Sendable {
    /// Plain http is refused unless allowed (tests, `purser dev`).
    public var allowHTTP = false
    /// Addresses let through although they are not public: `127.0.0.1/32`, `::1/128` (tests).
    public var allowed: [String] = []
    public init(allowHTTP: Bool = false, allowed: [String] = []) {
        self.allowHTTP = allowHTTP
        self.allowed = allowed
    }
}

public struct RefusedDestination: Error, Sendable, CustomStringConvertible {
    public let description: String
}

public struct CheckedDestination: Sendable {
    public let url: String
    /// `host:port:address` for CURLOPT_RESOLVE.
    public let pin: String
}

public enum Destinations {
    public static func check(_ text: String, policy: DestinationPolicy, resolver: any NameResolver) throws -> CheckedDestination {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), var host = url.host, !host.isEmpty else {
            throw RefusedDestination(description: "\(text) is not an absolute URL")
        }
        guard scheme == "https" || (scheme == "http" && policy.allowHTTP) else {
            throw RefusedDestination(description: "only https destinations are allowed")
        }
        guard url.user == nil, url.password == nil else {
            throw RefusedDestination(description: "credentials in the URL are not allowed; use the channel's secret")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        // URL reads any digits as a port; outside 1–65535 every call would fail.
        guard (1...65535).contains(port) else { throw RefusedDestination(description: "port \(port) is not 1–65535") }
        let addresses = try resolver.addresses(of: host)
        guard !addresses.isEmpty else { throw RefusedDestination(description: "\(host) has no address") }
        for address in addresses where !isPublic(address) && !isAllowed(address, policy.allowed) {
            throw RefusedDestination(description: "\(host) resolves to \(address), which is not a public address")
        }
        let pinned = addresses[0].contains(":") ? "[\(addresses[0])]" : addresses[0]
        return CheckedDestination(url: text, pin: "\(host):\(port):\(pinned)")
    }

    /// False for loopback, private, link-local (cloud metadata lives there), shared, unspecified,
    /// multicast and reserved ranges, in IPv4 and IPv6. An IPv6 address that carries an IPv4 one
    /// (mapped, compatible, NAT64, 6to4, Teredo) is judged by that IPv4 address too: a gateway on
    /// the way would deliver it there.
    static func isPublic(_ address: String) -> Bool {
        guard let bytes = AddressResolver.bytes(of: address) else { return false }
        if bytes.count == 4 { return isPublicIPv4(bytes) }
        let head = Array(bytes[0..<12])
        // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated, SIIT), ::a.b.c.d (compatible, which
        // also covers :: and ::1), 64:ff9b::a.b.c.d (NAT64).
        if head == [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] || head == [UInt8](repeating: 0, count: 8) + [0xFF, 0xFF, 0, 0]
            || head.allSatisfy({ $0 == 0 })
            || head == [0x00, 0x64, 0xFF, 0x9B] + [UInt8](repeating: 0, count: 8)
        {
            return isPublicIPv4(Array(bytes[12..<16]))
        }
        if bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xFF && bytes[3] == 0x9B { return false }  // 64:ff9b:1::/48, local NAT64
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return isPublicIPv4(Array(bytes[2..<6])) }  // 2002::/16, 6to4
        if bytes[0..<4] == [0x20, 0x01, 0x00, 0x00] {  // 2001::/32, Teredo
            return isPublicIPv4(Array(bytes[4..<8])) && isPublicIPv4(bytes[12..<16].map { $0 ^ 0xFF })
        }
        if bytes[0] & 0xFE == 0xFC { return false }  // fc00::/7 unique local (fd00:ec2::254 metadata)
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return false }  // fe80::/10 link-local
        if bytes[0] == 0xFF { return false }  // multicast
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8 { return false }  // documentation
        return true
    }

    static func isPublicIPv4(_ bytes: [UInt8]) -> Bool {
        let (a, b) = (bytes[0], bytes[1])
        if a == 0 || a == 10 || a == 127 || a >= 224 { return false }
        if a == 169 && b == 254 { return false }
        if a == 172 && (16...31).contains(b) { return false }
        if a == 192 && b == 168 { return false }
        if a == 100 && (64...127).contains(b) { return false }
        if a == 192 && b == 0 && bytes[2] == 0 { return false }
        if a == 198 && (b == 18 || b == 19) { return false }
        return true
    }

    static func isAllowed(_ address: String, _ allowed: [String]) -> Bool {
        guard let bytes = AddressResolver.bytes(of: address) else { return false }
        for entry in allowed {
            let parts = entry.split(separator: "/", maxSplits: 1)
            guard let network = AddressResolver.bytes(of: String(parts[0])), network.count == bytes.count else { continue }
            let prefix = parts.count == 2 ? Int(parts[1]) ?? bytes.count * 8 : bytes.count * 8
            var matches = true
            for bit in 0..<min(prefix, bytes.count * 8) {
                let mask = UInt8(0x80) >> UInt8(bit % 8)
                if bytes[bit / 8] & mask != network[bit / 8] & mask { matches = false; break }
            }
            if matches { return true }
        }
        return false
    }
}
