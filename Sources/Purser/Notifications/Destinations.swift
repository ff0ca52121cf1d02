// Tenants choose where notifications go, so a destination must not reach inside the provider's
// network. A URL's host is resolved, every address is checked (private, loopback, link-local,
// cloud metadata, unspecified, multicast: refused), and the connection is pinned to a checked
// address (CURLOPT_RESOLVE) so a second lookup cannot change where it goes.
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
    public static func check(_ text: String, policy: DestinationPolicy) throws -> CheckedDestination {
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
        let addresses = try AddressResolver.addresses(of: host)
        guard !addresses.isEmpty else { throw RefusedDestination(description: "\(host) has no address") }
        for address in addresses where !isPublic(address) && !isAllowed(address, policy.allowed) {
            throw RefusedDestination(description: "\(host) resolves to \(address), which is not a public address")
        }
        let pinned = addresses[0].contains(":") ? "[\(addresses[0])]" : addresses[0]
        return CheckedDestination(url: text, pin: "\(host):\(port):\(pinned)")
    }

    /// False for loopback, private, link-local (cloud metadata lives there), shared, unspecified,
    /// multicast and reserved ranges, in IPv4 and IPv6 (IPv4-mapped IPv6 judged as IPv4).
    static func isPublic(_ address: String) -> Bool {
        guard var bytes = AddressResolver.bytes(of: address) else { return false }
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            bytes = Array(bytes[12..<16])
        }
        if bytes.count == 4 {
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
        if bytes.allSatisfy({ $0 == 0 }) { return false }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return false }
        if bytes[0] & 0xFE == 0xFC { return false }                 // fc00::/7 unique local (fd00:ec2::254 metadata)
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return false } // fe80::/10 link-local
        if bytes[0] == 0xFF { return false }                        // multicast
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8 { return false } // documentation
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
