// POST /api/v1/hosts/{id}/host-certificate: staff sign a host's own public key as a host
// certificate of Purser's CA (SSHHostCertificates); the answer carries the sshd_config and
// known_hosts lines that use it.
import Foundation
import HTTPServer

extension SSHHostCertificates {
    // MARK: API

    static let signed = SchemaComponent(
        "HostCertificate",
        schema: [
            "type": "object",
            "required": ["certificate", "serial", "principals", "valid_after", "valid_before", "sshd_config", "known_hosts"],
            "properties": [
                "certificate": [
                    "type": "string", "description": "One OpenSSH line (ssh-ed25519-cert-v01@openssh.com …), the host's -cert.pub file.",
                ],
                "serial": ["type": "integer"], "principals": ["type": "array", "items": ["type": "string"]],
                "valid_after": ["type": "string", "format": "date-time"], "valid_before": ["type": "string", "format": "date-time"],
                "sshd_config": ["type": "string", "description": "The sshd_config line that presents it."],
                "known_hosts": ["type": "string", "description": "The @cert-authority line clients put in known_hosts."],
            ],
        ])

    static let request = SchemaComponent(
        "NewHostCertificate",
        schema: [
            "type": "object", "required": ["public_key"], "additionalProperties": false,
            "properties": [
                "public_key": [
                    "type": "string", "maxLength": 16384,
                    "description": "The host's public key line (/etc/ssh/ssh_host_ed25519_key.pub).",
                ],
                "validity_days": [
                    "type": "integer", "minimum": 1, "maximum": .number(Double(longestDays)), "description": "90 unless given.",
                ],
            ],
        ])

    struct Body: Decodable {
        let publicKey: String?
        let validityDays: Int?
        enum CodingKeys: String, CodingKey { case publicKey = "public_key", validityDays = "validity_days" }
        static let fields: Set<String> = ["public_key", "validity_days"]
    }

    static func register(in routes: inout RouteTable, store: HostStore, keyring: Keyring) {
        let signer = SSHHostCertificates(database: store.database, keyring: keyring, clock: store.clock)
        routes.api(
            .post, .hostCertificate, scope: .hostsWrite, options: .json,
            operation: Operation(
                id: "signHostCertificate",
                summary: "Sign the host's own public key as an SSH host certificate (principals: its name and address) with Purser's CA.",
                tags: ["hosts"], parameters: [HostsAPI.tenantParameter, HostsAPI.idParameter], requestComponent: request,
                responses: [
                    .init(200, "The certificate and the lines that use it.", component: signed), .problem(400, "Malformed JSON."),
                    .problem(422, "Not an OpenSSH public key, too weak, or a validity out of range."),
                ] + HostsAPI.common)
        ) { ctx in
            try ctx.require(.providersManage)
            let body = try ctx.request.decode(Body.self, fields: Body.fields)
            let made = try signer.sign(
                try ctx.request.uuidParameter("id"), reach: try HostsAPI.reach(ctx), publicKeyLine: body.publicKey,
                days: body.validityDays ?? defaultDays, actor: ctx.actor)
            let type = made.certificate.split(separator: " ").first.map(String.init) ?? ""
            let file = "/etc/ssh/ssh_host_" + (type.hasPrefix("ssh-rsa") ? "rsa" : type.hasPrefix("ecdsa") ? "ecdsa" : "ed25519")
            return .json([
                "certificate": .string(made.certificate), "serial": .number(Double(made.serial)),
                "principals": .array(made.principals.map { .string($0) }), "valid_after": .string(RFC3339.string(made.validAfter)),
                "valid_before": .string(RFC3339.string(made.validBefore)), "sshd_config": .string("HostCertificate \(file)_key-cert.pub"),
                "known_hosts": .string(made.knownHosts),
            ])
        }
    }
}
