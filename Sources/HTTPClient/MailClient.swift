// Sending one message over SMTP with libcurl: STARTTLS (required, or opportunistic for tests and
// development) or SMTPS, optional login, one envelope sender, many recipients.
import CCurl
import CCurlShim
import Foundation

public struct MailServer: Sendable {
    public enum Security: Sendable { case none, startTLSIfOffered, startTLS, implicitTLS }

    /// `smtp://host:port` or `smtps://host:port`.
    public var url: String
    public var security: Security
    public var username: String?
    public var password: String?
    public var verifyTLS = true
    public var timeout: Duration = .seconds(30)

    public init(url: String, security: Security = .startTLS, username: String? = nil, password: String? = nil) {
        self.url = url
        self.security = security
        self.username = username
        self.password = password
    }
}

public struct MailError: Error, Sendable, CustomStringConvertible {
    /// The server's last reply code (550 for an unknown recipient), or 0 when it never answered.
    public let replyCode: Int
    public let message: String
    public var description: String { replyCode > 0 ? "smtp \(replyCode): \(message)" : "smtp: \(message)" }
}

public enum MailClient {
    /// Sends `message` (a complete RFC 5322 message, CRLF line ends) from `sender` to `recipients`.
    public static func send(_ message: [UInt8], from sender: String, to recipients: [String], via server: MailServer) throws {
        for address in [sender] + recipients where address.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 60 || $0 == 62 }) {
            throw MailError(replyCode: 0, message: "address \(address) contains a line break or angle bracket")
        }
        guard let handle = curl_easy_init() else { throw MailError(replyCode: 0, message: "libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        var recipientList: UnsafeMutablePointer<curl_slist>?
        for recipient in recipients { recipientList = curl_slist_append(recipientList, "<\(recipient)>") }
        defer { curl_slist_free_all(recipientList) }
        final class Source {
            let bytes: [UInt8]
            var offset = 0
            init(_ bytes: [UInt8]) { self.bytes = bytes }
        }
        let source = Source(message)
        let sourcePointer = Unmanaged.passUnretained(source).toOpaque()
        _ = purser_curl_set_pointer(handle, CURLOPT_URL, server.url)
        _ = purser_curl_set_pointer(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        _ = purser_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = purser_curl_set_long(
            handle, CURLOPT_TIMEOUT_MS,
            Int(server.timeout.components.seconds) * 1000 + Int(server.timeout.components.attoseconds / 1_000_000_000_000_000))
        let tls: Int =
            switch server.security {
            case .none: Int(CURLUSESSL_NONE.rawValue)
            case .startTLSIfOffered: Int(CURLUSESSL_TRY.rawValue)
            case .startTLS, .implicitTLS: Int(CURLUSESSL_ALL.rawValue)
            }
        _ = purser_curl_set_long(handle, CURLOPT_USE_SSL, tls)
        _ = purser_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, server.verifyTLS ? 1 : 0)
        _ = purser_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, server.verifyTLS ? 2 : 0)
        if let username = server.username { _ = purser_curl_set_pointer(handle, CURLOPT_USERNAME, username) }
        if let password = server.password { _ = purser_curl_set_pointer(handle, CURLOPT_PASSWORD, password) }
        _ = purser_curl_set_pointer(handle, CURLOPT_MAIL_FROM, "<\(sender)>")
        _ = purser_curl_set_pointer(handle, CURLOPT_MAIL_RCPT, recipientList)
        _ = purser_curl_set_long(handle, CURLOPT_UPLOAD, 1)
        _ = purser_curl_set_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.count))
        // The read callback has the write callback's C signature.
        _ = purser_curl_set_write_function(
            handle, CURLOPT_READFUNCTION,
            { buffer, size, count, user in
                let source = Unmanaged<Source>.fromOpaque(user!).takeUnretainedValue()
                let length = min(size * count, source.bytes.count - source.offset)
                guard length > 0 else { return 0 }
                source.bytes.withUnsafeBytes { bytes in
                    buffer!.withMemoryRebound(to: UInt8.self, capacity: length) {
                        $0.update(from: bytes.baseAddress!.advanced(by: source.offset).assumingMemoryBound(to: UInt8.self), count: length)
                    }
                }
                source.offset += length
                return length
            })
        _ = purser_curl_set_pointer(handle, CURLOPT_READDATA, sourcePointer)
        let code = withExtendedLifetime(source) { curl_easy_perform(handle) }
        var reply = 0
        _ = purser_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &reply)
        guard code == CURLE_OK else {
            throw MailError(replyCode: reply, message: String(cString: curl_easy_strerror(code)))
        }
    }
}
