// Which address a request comes from: the socket peer, unless that peer is a trusted proxy.
import Foundation

struct TrustedProxies: Sendable {
    private let exact: Set<String>
    private let ipv4Blocks: [(network: UInt32, mask: UInt32)]

    init(_ entries: [String]) {
        var exact = Set<String>()
        var blocks: [(UInt32, UInt32)] = []
        for entry in entries {
            let parts = entry.split(separator: "/")
            if parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits), let network = Self.ipv4(String(parts[0])) {
                let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - UInt32(bits))
                blocks.append((network & mask, mask))
            } else {
                exact.insert(entry)
            }
        }
        self.exact = exact
        self.ipv4Blocks = blocks
    }

    var isEmpty: Bool { exact.isEmpty && ipv4Blocks.isEmpty }

    func contains(_ address: String) -> Bool {
        if exact.contains(address) { return true }
        guard let value = Self.ipv4(address) else { return false }
        return ipv4Blocks.contains { value & $0.mask == $0.network }
    }

    /// The client as the proxies saw it: walking `X-Forwarded-For` from the right, the first hop that
    /// is not itself a trusted proxy. Anything left of it could have been written by the client.
    func client(peer: String, headers: HTTPHeaders) -> String {
        guard !isEmpty, contains(peer) else { return peer }
        var hops: [String] = []
        for value in headers.values("X-Forwarded-For") {
            hops += value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if hops.isEmpty {
            for value in headers.values("Forwarded") {
                for element in value.split(separator: ",") {
                    for pair in element.split(separator: ";") {
                        let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                        if kv.count == 2, kv[0].lowercased() == "for" {
                            hops.append(kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"[]")))
                        }
                    }
                }
            }
        }
        for hop in hops.reversed() where !contains(hop) && !hop.isEmpty {
            return hop
        }
        return peer
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".")
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }
}
