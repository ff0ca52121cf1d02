// The device cookie: set on a browser when a person finishes signing in, naming them, signed with
// the master key. It proves only that this browser signed in as them before, and is worth only a
// place in the hasher's lane for known people when it signs in as them again — it passes no
// throttle, no password and no second factor. A flood of sign-ins with made-up emails fills the
// shared lane; people who have signed in from their browser before still get in.
import Foundation
import struct HTTPServer.SetCookie
import Postgres

enum DeviceCookie {
    static let name = "purser_device"
    /// A browser unused for this long queues with everyone again.
    static let lifetime: TimeInterval = 90 * 86400

    /// The Set-Cookie naming `user` (`<user>.<issued>.<key id>.<tag>`, the tag an HMAC under the
    /// master key's first key), issued at the sessions' time.
    static func cookie(for user: UUID, keyring: Keyring, sessions: SessionStore) -> SetCookie {
        let issued = String(Int(sessions.clock.now.timeIntervalSince1970))
        let signed = keyring.authenticate(message(user, issued))
        let value = [
            user.postgresText, issued, RandomSecret.encodeBase64url(Array(signed.keyID.utf8)),
            RandomSecret.encodeBase64url(signed.tag),
        ].joined(separator: ".")
        return sessions.setCookie(name, value: value, maxAge: Int(lifetime))
    }

    /// The person a device cookie's value names (the page reads it from the request), when its
    /// signature holds under any key of the ring and it is within its lifetime at `now`; nil otherwise.
    static func person(cookie value: String?, keyring: Keyring, at now: Date) -> UUID? {
        guard let value, value.utf8.count <= 200 else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let user = UUID(uuidString: parts[0]), let issued = Int(parts[1]),
            let keyID = decode(parts[2]).map({ String(decoding: $0, as: UTF8.self) }), let tag = decode(parts[3]),
            keyring.verify(message(user, parts[1]), keyID: keyID, tag: tag)
        else { return nil }
        let age = now.timeIntervalSince1970 - TimeInterval(issued)
        return age >= 0 && age < lifetime ? user : nil
    }

    private static func message(_ user: UUID, _ issued: String) -> [UInt8] {
        Array("purser-device|\(user.postgresText)|\(issued)".utf8)
    }

    private static func decode(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}
