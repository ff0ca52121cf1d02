// What a host is made or changed with, from the API's JSON or the pages' form, checked field by
// field. The address is a host name or an IP address and nothing else: it goes on ssh's command
// line, so a leading '-', a scheme, a path, a port or spaces are refused rather than passed on.
import Foundation
import struct HTTPServer.FieldError
import OpenSSHFormats

public struct HostInput: Sendable {
    public var name: String?
    public var address: String?
    public var sshPort: Int?
    public var sshLogin: String?
    public var hostKeys: [String]?
    public var labels: [String]?
    public var gpus: [GPUHost.GPU]?
    public var runtime: String?
    public var models: [String]?
    public var state: String?

    public init() {}

    /// The checked values of a new host; every missing or wrong field is named.
    func checkedForCreate() throws -> Checked {
        var errors: [FieldError] = []
        if name == nil { errors.append(FieldError(field: "name", detail: "required")) }
        if address == nil { errors.append(FieldError(field: "address", detail: "required")) }
        if hostKeys == nil { errors.append(FieldError(field: "host_keys", detail: "required: the host's public keys (ssh-keyscan)")) }
        if runtime == nil { errors.append(FieldError(field: "runtime", detail: "required: vllm or tgi")) }
        let checked = check(into: &errors)
        guard errors.isEmpty else { throw ValidationError(errors) }
        return checked
    }

    /// The checked values of a change (fields not sent stay as they are).
    func checkedForChange() throws -> Checked {
        var errors: [FieldError] = []
        let checked = check(into: &errors)
        guard errors.isEmpty else { throw ValidationError(errors) }
        return checked
    }

    struct Checked {
        var name: String?
        var address: String?
        var sshPort: Int?
        var sshLogin: String?
        var hostKeys: [String]?
        var labels: [String]?
        var gpus: [GPUHost.GPU]?
        var runtime: GPUHost.Runtime?
        var models: [String]?
        var state: GPUHost.State?
    }

    private func check(into errors: inout [FieldError]) -> Checked {
        var out = Checked()
        if let name {
            if matches(name, "^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?\\z") {
                out.name = name
            } else {
                errors.append(
                    FieldError(
                        field: "name",
                        detail: "use 1–40 lowercase letters, digits and inner hyphens (no dots: it is part of SSH principals)"))
            }
        }
        if let address {
            let trimmed = address.trimmingCharacters(in: .whitespacesAndNewlines)
            if Self.isHostAddress(trimmed) {
                out.address = trimmed.lowercased()
            } else {
                errors.append(FieldError(field: "address", detail: "not a host name or an IP address (no scheme, port, path or spaces)"))
            }
        }
        if let sshPort {
            if (1...65535).contains(sshPort) {
                out.sshPort = sshPort
            } else {
                errors.append(FieldError(field: "ssh_port", detail: "1–65535"))
            }
        }
        if let sshLogin {
            if matches(sshLogin, "^[a-z_][a-z0-9_-]{0,31}\\z") {
                out.sshLogin = sshLogin
            } else {
                errors.append(FieldError(field: "ssh_login", detail: "a Unix login: lowercase letters, digits, '_' or '-', at most 32"))
            }
        }
        if let hostKeys {
            // ssh-keyscan's "# host:22 SSH-2.0-…" banners come along when its output is pasted whole.
            let lines = hostKeys.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
            if lines.isEmpty || lines.count > 8 {
                errors.append(FieldError(field: "host_keys", detail: "give 1–8 host public keys"))
            } else {
                var keys: [String] = []
                for (index, line) in lines.enumerated() {
                    // ssh-keyscan prints "host keytype key": the host part is dropped.
                    let fields = line.split(separator: " ").map(String.init)
                    let candidate =
                        fields.count >= 3 && OpenSSHPublicKey.Algorithm(rawValue: fields[1]) != nil
                        ? fields[1...].joined(separator: " ") : line
                    do {
                        let key = try OpenSSHPublicKey(parsing: candidate)
                        keys.append(key.algorithm.rawValue + " " + Data(key.blob).base64EncodedString())
                    } catch {
                        errors.append(FieldError(field: "host_keys", detail: "key \(index + 1): \(error.description)"))
                    }
                }
                out.hostKeys = keys
            }
        }
        if let labels {
            let cleaned = Array(Set(labels.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty })).sorted()
            if cleaned.count > 20 || cleaned.contains(where: { !matches($0, "^[a-z0-9][a-z0-9_.:/-]{0,99}\\z") }) {
                errors.append(FieldError(field: "labels", detail: "up to 20 labels of lowercase letters, digits and _ . : / -"))
            } else {
                out.labels = cleaned
            }
        }
        if let gpus {
            if gpus.count > 16
                || gpus.contains(where: {
                    $0.model.isEmpty || $0.model.count > 100 || RequestRules.hasControl($0.model) || !(1...64).contains($0.count)
                        || !(1...4_194_304).contains($0.memoryMiB)
                })
            {
                errors.append(
                    FieldError(
                        field: "gpus", detail: "each GPU kind needs a model (1–100 characters on one line), a count of 1–64 and memory_mib")
                )
            } else {
                out.gpus = gpus
            }
        }
        if let runtime {
            if let value = GPUHost.Runtime(rawValue: runtime) {
                out.runtime = value
            } else {
                errors.append(FieldError(field: "runtime", detail: "vllm or tgi"))
            }
        }
        if let models {
            let cleaned = models.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            if cleaned.count > 50 || cleaned.contains(where: { $0.count > 200 || RequestRules.hasControl($0) }) {
                errors.append(FieldError(field: "models", detail: "up to 50 model names of at most 200 characters, each on one line"))
            } else {
                out.models = cleaned
            }
        }
        if let state {
            // Down is what the health schedule finds; people drain and undrain.
            if state == "active" || state == "draining" {
                out.state = GPUHost.State(rawValue: state)
            } else {
                errors.append(FieldError(field: "state", detail: "active (undrain) or draining (drain); down is set by the health checks"))
            }
        }
        return out
    }

    /// Patterns end in `\z`: ICU's `$` also matches before a final line break, so "gpu-1\n" would pass.
    private func matches(_ text: String, _ pattern: String) -> Bool { text.range(of: pattern, options: .regularExpression) != nil }

    /// A DNS host name (RFC 1123 labels) or an IPv4 or IPv6 address.
    static func isHostAddress(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1 { return true }
        let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        // All digits and dots would be an IPv4 address, and it was not one.
        guard text.range(of: "^\(label)(\\.\(label))*\\.?\\z", options: .regularExpression) != nil,
            text.range(of: "^[0-9.]+\\z", options: .regularExpression) == nil
        else { return false }
        return true
    }
}
