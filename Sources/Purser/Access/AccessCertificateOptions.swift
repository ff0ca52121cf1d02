// What an access request may ask of its grant's certificates besides the principal and window:
// only narrower than its policy allows. No port forwarding where the policy permits it (never the
// other way), source addresses inside the policy's blocks (any, where the policy names none), and
// a forced command where the policy forces none (the policy's own is never replaced). Nil means
// "as the policy says". When a certificate is signed, the grant's choice meets the policy as it
// reads then: a policy narrowed after approval narrows the grant's certificates too.
import Foundation
import struct HTTPServer.FieldError

public struct CertificateOptions: Sendable, Equatable {
    public var permitPortForwarding: Bool?
    public var sourceAddresses: [String]?
    public var forceCommand: String?

    public init(permitPortForwarding: Bool? = nil, sourceAddresses: [String]? = nil, forceCommand: String? = nil) {
        self.permitPortForwarding = permitPortForwarding
        self.sourceAddresses = sourceAddresses
        self.forceCommand = forceCommand
    }

    public var isEmpty: Bool { permitPortForwarding == nil && sourceAddresses == nil && forceCommand == nil }

    /// What a certificate carries (besides permit-pty).
    public struct Signed: Sendable, Equatable {
        public let permitPortForwarding: Bool
        public let sourceAddresses: [String]
        public let forceCommand: String?
    }

    /// In words, for the grant's page: "port forwarding not permitted; only from 10.0.4.0/24; runs only uptime".
    static func words(_ signed: Signed) -> String {
        [
            "port forwarding " + (signed.permitPortForwarding ? "permitted" : "not permitted"),
            signed.sourceAddresses.isEmpty ? "from anywhere" : "only from " + signed.sourceAddresses.joined(separator: ", "),
            signed.forceCommand.map { "runs only " + $0 } ?? "any command",
        ].joined(separator: "; ")
    }

    /// The policy's own, with nothing narrowed.
    static func policy(_ policy: AccessPolicy) -> Signed {
        Signed(
            permitPortForwarding: policy.permitPortForwarding, sourceAddresses: policy.sourceAddresses,
            forceCommand: policy.forceCommand)
    }

    /// Every way these options widen `policy` or are malformed, by field (empty: all narrower).
    func problems(within policy: AccessPolicy) -> [FieldError] {
        if isEmpty { return [] }
        guard policy.kind == .ssh else {
            return [FieldError(field: "certificate_options", detail: "a role policy signs no certificates")]
        }
        var errors: [FieldError] = []
        if permitPortForwarding == true && !policy.permitPortForwarding {
            errors.append(
                FieldError(field: "permit_port_forwarding", detail: "the policy \(policy.name) does not permit port forwarding"))
        }
        if let sources = sourceAddresses {
            if sources.isEmpty || sources.count > 32 {
                errors.append(FieldError(field: "source_addresses", detail: "name 1–32 addresses, or leave it out"))
            } else if let bad = sources.first(where: { AddressBlock($0) == nil }) {
                errors.append(FieldError(field: "source_addresses", detail: "\(bad) is not an IP address or CIDR block"))
            } else if let outside = sources.first(where: { !Self.inside($0, policy.sourceAddresses) }) {
                errors.append(
                    FieldError(
                        field: "source_addresses",
                        detail: "\(outside) is not within the policy's \(policy.sourceAddresses.joined(separator: ", "))"))
            }
        }
        if let command = forceCommand {
            if command.isEmpty || command.count > 1000 || command.contains(where: \.isNewline)
                || command.unicodeScalars.contains(where: { $0.value == 0 })
            {
                errors.append(FieldError(field: "force_command", detail: "one line of 1–1000 characters"))
            } else if let forced = policy.forceCommand, forced != command {
                errors.append(FieldError(field: "force_command", detail: "the policy forces \(forced); a grant cannot change it"))
            }
        }
        return errors
    }

    /// What a certificate signed now carries: these options met with `policy` as it reads now.
    /// Refused when none of the grant's addresses is still within the policy's.
    func signed(under policy: AccessPolicy) throws -> Signed {
        let sources: [String]
        if let own = sourceAddresses {
            sources = own.filter { Self.inside($0, policy.sourceAddresses) }
            if sources.isEmpty {
                throw AccessRefused(
                    "source_addresses_narrowed",
                    "The policy \(policy.name) now allows none of this grant's source addresses (\(own.joined(separator: ", "))); ask again.",
                    refusal: .conflict)
            }
        } else {
            sources = policy.sourceAddresses
        }
        return Signed(
            permitPortForwarding: policy.permitPortForwarding && permitPortForwarding != false, sourceAddresses: sources,
            forceCommand: policy.forceCommand ?? forceCommand)
    }

    /// Whether `block` lies within one of `allowed` (no blocks allowed: anywhere).
    static func inside(_ block: String, _ allowed: [String]) -> Bool {
        if allowed.isEmpty { return AddressBlock(block) != nil }
        guard let inner = AddressBlock(block) else { return false }
        return allowed.compactMap(AddressBlock.init).contains { $0.contains(inner) }
    }
}

/// An IPv4 or IPv6 address with its prefix length (a lone address is a /32 or /128).
struct AddressBlock: Equatable {
    let bytes: [UInt8]
    let prefix: Int

    init?(_ text: String) {
        guard AccessPolicy.isAddressBlock(text) else { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, String(parts[0]), &buffer) == 1 {
            bytes = Array(buffer.prefix(4))
        } else if inet_pton(AF_INET6, String(parts[0]), &buffer) == 1 {
            bytes = buffer
        } else {
            return nil
        }
        prefix = parts.count == 2 ? Int(parts[1])! : bytes.count * 8
    }

    /// Whether every address of `other` is one of this block's.
    func contains(_ other: AddressBlock) -> Bool {
        guard other.bytes.count == bytes.count, other.prefix >= prefix else { return false }
        for bit in 0..<prefix where (bytes[bit / 8] >> (7 - bit % 8)) & 1 != (other.bytes[bit / 8] >> (7 - bit % 8)) & 1 {
            return false
        }
        return true
    }
}
