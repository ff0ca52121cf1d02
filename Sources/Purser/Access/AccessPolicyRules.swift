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
        if !(1...100).contains(trimmed.count) { errors.append(FieldError(field: "name", detail: "give a name of 1–100 characters")) }
        switch kind {
        case .ssh:
            if (hostLabel ?? "").isEmpty || (hostLabel ?? "").count > 100 {
                errors.append(FieldError(field: "host_label", detail: "name the label of the hosts (e.g. group:train)"))
            }
            if (sshLogin ?? "").range(of: "^[a-z_][a-z0-9_-]{0,31}$", options: .regularExpression) == nil {
                errors.append(FieldError(field: "ssh_login", detail: "a login of lower-case letters, digits, - and _ (at most 32)"))
            }
        case .role:
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
}
