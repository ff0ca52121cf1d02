// Which address a request comes from: the socket peer, unless that peer is a trusted proxy, in which
// case the proxies' own record of the hops, read from the one header they write.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The header a deployment's load balancer writes the client's address into. Only that header is
/// read: a proxy that writes `Forwarded` passes a client's own `X-Forwarded-For` through untouched,
/// so believing both would let the client choose its address.
public enum ForwardedHeader: String, Sendable, CaseIterable {
    case xForwardedFor = "x-forwarded-for"
    case forwarded
}

struct TrustedProxies: Sendable {
    private let blocks: [IPBlock]
    let header: ForwardedHeader

    init(_ entries: [String], header: ForwardedHeader = .xForwardedFor) {
        blocks = entries.compactMap(IPBlock.init)
        self.header = header
    }

    var isEmpty: Bool { blocks.isEmpty }

    func contains(_ address: String) -> Bool {
        guard let parsed = IPAddress(address) else { return false }
        return blocks.contains { $0.contains(parsed) }
    }

    /// The client as the proxies saw it: walking the hops from the right, the first one that is not
    /// itself a trusted proxy. Anything left of it could have been written by the client.
    func client(peer: String, headers: HTTPHeaders) -> String {
        guard !isEmpty, contains(peer) else { return peer }
        let hops = header == .forwarded ? Self.forwardedHops(headers) : Self.xForwardedForHops(headers)
        for hop in hops.reversed() {
            // A hop that is not an address (`unknown`, an obfuscated name) ends what can be known.
            guard let address = IPAddress(hop) else { return peer }
            if !blocks.contains(where: { $0.contains(address) }) { return address.text }
        }
        // Every hop is a proxy of ours: the left-most one is where the request began.
        return hops.first.flatMap { IPAddress($0)?.text } ?? peer
    }

    static func xForwardedForHops(_ headers: HTTPHeaders) -> [String] {
        headers.values("X-Forwarded-For").flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    /// The `for=` value of each element of RFC 7239 `Forwarded` headers, in order.
    static func forwardedHops(_ headers: HTTPHeaders) -> [String] {
        var hops: [String] = []
        for value in headers.values("Forwarded") {
            for element in value.split(separator: ",") {
                var found = "unknown"
                for pair in element.split(separator: ";") {
                    let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    if kv.count == 2, kv[0].lowercased() == "for" {
                        found = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    }
                }
                hops.append(found)
            }
        }
        return hops
    }
}

/// An IPv4 or IPv6 address as its 16 bytes (IPv4 mapped into `::ffff:0:0/96`), parsed from the forms
/// proxies and sockets write: bare, `[v6]`, `v4:port`, `[v6]:port`, with or without a zone (`%eth0`,
/// which names an interface, not another host).
public struct IPAddress: Equatable, Sendable {
    let bytes: [UInt8]
    /// An IPv4 address, or one written in IPv6 form (`::ffff:192.0.2.1`).
    public let isIPv4: Bool

    public init?(_ written: String) {
        var text = Substring(written.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            text = text[text.index(after: text.startIndex)..<close]
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            text = text[..<colon]
        }
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, String(text), &v4) == 1 {
            let value = UInt32(bigEndian: v4.s_addr)
            bytes = Array(repeating: 0, count: 10) + [0xFF, 0xFF] + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
            isIPv4 = true
        } else if inet_pton(AF_INET6, String(text), &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            isIPv4 = bytes.prefix(12).elementsEqual(Array(repeating: 0, count: 10) + [0xFF, 0xFF])
        } else {
            return nil
        }
    }

    /// The address written the usual way (`203.0.113.9`, `2001:db8::1`).
    public var text: String { Self.text(bytes, isIPv4: isIPv4) }

    /// The IPv6 network of the first `bits` bits, as `2001:db8:1:2::/64` (for an IPv6 address only).
    public func network(bits: Int) -> String {
        var masked = bytes
        for index in masked.indices {
            let keep = max(0, min(8, bits - index * 8))
            masked[index] &= keep == 8 ? 0xFF : ~(0xFF >> UInt8(keep))
        }
        return Self.text(masked, isIPv4: false) + "/\(bits)"
    }

    private static func text(_ bytes: [UInt8], isIPv4: Bool) -> String {
        if isIPv4 { return bytes.suffix(4).map(String.init).joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`).
public struct IPBlock: Sendable {
    let network: IPAddress
    let prefixBits: Int

    public init?(_ entry: String) {
        let parts = entry.split(separator: "/", maxSplits: 1)
        guard let network = IPAddress(String(parts[0])) else { return nil }
        let width = network.isIPv4 ? 32 : 128
        guard let bits = parts.count == 2 ? Int(parts[1]) : width, (0...width).contains(bits) else { return nil }
        self.network = network
        prefixBits = bits + (network.isIPv4 ? 96 : 0)
    }

    func contains(_ address: IPAddress) -> Bool {
        var remaining = prefixBits
        for (a, b) in zip(address.bytes, network.bytes) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }
}
