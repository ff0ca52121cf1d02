// What may be shown of a destination. A Slack or Teams incoming-webhook URL carries its
// credential in the path, so a URL is shown (and kept in the delivery log) as its scheme and host
// only. An e-mail address is personal data: shown whole only to people who manage the tenant
// (tenant admins, staff), to others as the domain alone. Written as a plain scan, linear in the
// input, and the same rule migration 0014 applies in SQL to deliveries logged before it.
import Foundation

public enum DestinationRedaction {
    /// What a destination that cannot be read as a URL is shown as.
    public static let unreadable = "unknown"

    /// `scheme://host` of `text`, lowercased; no user information, port, path, query or fragment.
    public static func url(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            bytes.count >= colon + 3, bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        else {
            return unreadable
        }
        let scheme = bytes[..<colon]
        guard isLetter(scheme[scheme.startIndex]), scheme.allSatisfy({ isLetter($0) || isDigit($0) || "+-.".utf8.contains($0) }) else {
            return unreadable
        }
        var authority = bytes[(colon + 3)...]
        if let end = authority.firstIndex(where: { "/?#".utf8.contains($0) }) { authority = authority[..<end] }
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[(at + 1)...] }
        var host: ArraySlice<UInt8>
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return unreadable }
            host = authority[...close]
        } else {
            host = authority
            if let port = host.firstIndex(of: UInt8(ascii: ":")) { host = host[..<port] }
        }
        // RFC 3986's host characters (a registered name, or an IP literal in brackets).
        guard !host.isEmpty, host.allSatisfy({ isLetter($0) || isDigit($0) || "-._~%!$&'()*+,;=[]:".utf8.contains($0) }) else {
            return unreadable
        }
        return (String(decoding: scheme, as: UTF8.self) + "://" + String(decoding: host, as: UTF8.self)).lowercased()
    }

    /// Comma-separated addresses, each shown as `…@domain`.
    public static func addresses(_ text: String) -> String {
        text.split(separator: ",").map { entry in
            let address = entry.trimmingCharacters(in: .whitespaces)
            guard let at = address.lastIndex(of: "@") else { return "…" }
            return "…" + address[at...]
        }.joined(separator: ", ")
    }

    /// A destination of a channel or delivery of `kind` as it may be shown: a URL as scheme and
    /// host always, addresses whole only when `addressesVisible`.
    public static func shown(_ destination: String, kind: String, addressesVisible: Bool) -> String {
        if kind == "email" { return addressesVisible ? destination : addresses(destination) }
        return url(destination)
    }

    /// Whether `principal` may see e-mail addresses: tenant admins and staff, who manage the
    /// tenant's people anyway.
    public static func addressesVisible(to principal: Principal) -> Bool {
        principal.tenantRole == .tenantAdmin || principal.staffRole != nil
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}
