// What makes an access policy well-formed, as its form on the policies page says it: the same
// bounds as the table's checks, with a message per field instead of a constraint's name.
import Foundation
import struct HTTPServer.FieldError

extension AccessPolicy {
    static let knownRoles = Set(CustomerRole.allCases.map(\.rawValue) + StaffRole.allCases.map(\.rawValue))

    /// Every field that breaks a rule, named.
    func problems() -> [FieldError] {
        var errors: [FieldError] = []
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if !(1...100).contains(trimmed.count) || name.count > 100 || name.unicodeScalars.contains(where: { $0.value == 0 }) {
            errors.append(FieldError(field: "name", detail: "give a name of 1–100 characters"))
        }
        switch kind {
        case .ssh:
            // The labels hosts carry (HostsAPI's pattern): one host group or several.
            if hostLabels.isEmpty || hostLabels.count > 20 {
                errors.append(FieldError(field: "host_labels", detail: "name 1–20 labels of the hosts (e.g. group:train)"))
            } else if let bad = hostLabels.first(where: {
                $0.range(of: "^[a-z0-9][a-z0-9_.:/-]{0,99}\\z", options: .regularExpression) == nil
            }) {
                errors.append(
                    FieldError(field: "host_labels", detail: "\(bad) is not a host label (lower-case letters, digits and _ . : / -)"))
            } else if Set(hostLabels).count != hostLabels.count {
                errors.append(FieldError(field: "host_labels", detail: "a label is named twice"))
            }
            if (sshLogin ?? "").range(of: "^[a-z_][a-z0-9_-]{0,31}\\z", options: .regularExpression) == nil {
                errors.append(FieldError(field: "ssh_login", detail: "a login of lower-case letters, digits, - and _ (at most 32)"))
            }
            if let bad = sourceAddresses.first(where: { !Self.isAddressBlock($0) }) {
                errors.append(
                    FieldError(
                        field: "source_addresses", detail: "\(bad) is not an IP address or CIDR block (e.g. 10.0.4.0/24, 2001:db8::/32)"))
            } else if sourceAddresses.count > 32 {
                errors.append(FieldError(field: "source_addresses", detail: "at most 32 addresses"))
            }
            if role != nil { errors.append(FieldError(field: "role", detail: "an SSH policy grants no role")) }
            if let command = forceCommand,
                command.isEmpty || command.count > 1000 || command.contains(where: \.isNewline)
                    || command.unicodeScalars.contains(where: { $0.value == 0 })
            {
                errors.append(FieldError(field: "force_command", detail: "one line of at most 1000 characters"))
            }
        case .role:
            if !hostLabels.isEmpty || hostSource != .tenant || sshLogin != nil {
                errors.append(FieldError(field: "host_labels", detail: "a role policy names no hosts and no login"))
            }
            if !Self.knownRoles.contains(role ?? "") {
                errors.append(FieldError(field: "role", detail: "one of " + Self.knownRoles.sorted().joined(separator: ", ")))
            }
        }
        if requesterRoles.isEmpty || !requesterRoles.isSubset(of: Self.knownRoles) {
            errors.append(FieldError(field: "requester_roles", detail: "choose who may ask"))
        }
        if !breakGlassRoles.isSubset(of: Self.knownRoles) { errors.append(FieldError(field: "break_glass_roles", detail: "unknown role")) }
        if !approverRoles.isSubset(of: Set(CustomerRole.allCases.map(\.rawValue))) {
            errors.append(FieldError(field: "approver_roles", detail: "customer roles only"))
        }
        if !(60...(31 * 86400)).contains(maxSeconds) { errors.append(FieldError(field: "max_minutes", detail: "1 minute to 31 days")) }
        if !(0...5).contains(customerApprovals) || !(0...5).contains(providerApprovals) || customerApprovals + providerApprovals < 1 {
            errors.append(FieldError(field: "approvals", detail: "0–5 from each side, at least one in all"))
        }
        if !(60...86400).contains(breakGlassMaxSeconds) {
            errors.append(FieldError(field: "break_glass_minutes", detail: "1 minute to 24 hours"))
        }
        if !(60...(30 * 86400)).contains(lapseSeconds) { errors.append(FieldError(field: "lapse_minutes", detail: "1 minute to 30 days")) }
        return errors
    }

    /// An IPv4 or IPv6 address, alone or with a prefix length its family allows ("10.0.4.0/24"):
    /// what sshd takes in `source-address`.
    static func isAddressBlock(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty else { return false }
        var buffer = [UInt8](repeating: 0, count: 16)
        let bits: Int
        if inet_pton(AF_INET, String(parts[0]), &buffer) == 1 {
            bits = 32
        } else if inet_pton(AF_INET6, String(parts[0]), &buffer) == 1 {
            bits = 128
        } else {
            return false
        }
        guard parts.count == 2 else { return true }
        guard parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber), let prefix = Int(parts[1]) else { return false }
        return (0...bits).contains(prefix)
    }
}
