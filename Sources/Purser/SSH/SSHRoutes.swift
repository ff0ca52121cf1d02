// The CA's public key and its KRL, for hosts to fetch: no sign-in (like the API document), since
// both are published to every host that trusts Purser and hold no tenant's data beyond the key ids
// and serials of revoked certificates.
import HTTPServer
import OpenSSHFormats

enum SSHRoutes {
    static func register(in routes: inout RouteTable, database: Database) {
        routes.everyone(
            .get, .sshCAPublicKey,
            operation: Operation(
                id: "getSSHCAPublicKey", summary: "The SSH CA's public key, one OpenSSH line for sshd's TrustedUserCAKeys.",
                tags: ["ssh"],
                responses: [
                    .init(200, "The public key (ssh-ed25519 …).", mediaType: "text/plain", schema: ["type": "string"]),
                    .problem(404, "The CA has not been made (purser admin init-ssh-ca)."),
                ])
        ) { _ in
            guard let line = try SSHCertificateAuthority.publicKeyLine(database: database) else { throw notMade }
            return Response(status: .ok, contentType: "text/plain; charset=utf-8", body: Array((line + "\n").utf8))
        }
        routes.everyone(
            .get, .sshKRL,
            operation: Operation(
                id: "getSSHKRL",
                summary: "The OpenSSH KRL of revoked certificates, for sshd's RevokedKeys; its ETag changes with every revocation.",
                tags: ["ssh"],
                parameters: [.init("If-None-Match", in: .header, schema: ["type": "string"], description: "An ETag held.")],
                responses: [
                    .init(
                        200, "The KRL (binary, PROTOCOL.krl).", mediaType: "application/octet-stream",
                        schema: ["type": "string", "format": "binary"], headers: ["ETag"]),
                    .init(304, "The ETag held is current.", mediaType: nil),
                    .problem(404, "The CA has not been made (purser admin init-ssh-ca)."),
                ])
        ) { request in
            guard let line = try SSHCertificateAuthority.publicKeyLine(database: database) else { throw notMade }
            let list = try SSHRevocations.list(database: database, authority: try OpenSSHPublicKey(parsing: line))
            var headers = HTTPHeaders([("ETag", list.etag), ("Cache-Control", "no-cache")])
            if request.headers["If-None-Match"]?.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == list.etag
            }) == true {
                return Response(status: .notModified, headers: headers)
            }
            headers.add("Content-Type", "application/octet-stream")
            headers.add("Content-Disposition", "attachment; filename=\"purser.krl\"")
            return Response(status: .ok, headers: headers, body: .bytes(list.bytes))
        }
    }

    static let notMade = HTTPError(
        .notFound, detail: "Purser's SSH certificate authority has not been made: run `purser admin init-ssh-ca`.")
}
