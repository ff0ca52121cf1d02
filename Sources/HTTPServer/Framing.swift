// Request framing that libmicrohttpd 0.9.75 lets through but that a proxy may read the other
// way (request smuggling). Checked on the header list before any body is read.

enum Framing {
    /// Why these headers cannot be trusted to delimit the request, or nil when they can.
    static func problem(in headers: HTTPHeaders) -> String? {
        var contentLengths = 0
        var transferEncodings = 0
        for field in headers {
            if field.name.utf8.contains(where: { $0 == 32 || $0 == 9 }) {
                return "A header name contains whitespace (RFC 9112 §5.1)."
            }
            if field.name.caseInsensitiveEquals("Content-Length") {
                contentLengths += 1
                if field.value.isEmpty || !field.value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                    return "Content-Length is not a number."
                }
            } else if field.name.caseInsensitiveEquals("Transfer-Encoding") {
                transferEncodings += 1
            }
        }
        if contentLengths > 1 { return "The request has more than one Content-Length header." }
        if contentLengths > 0 && transferEncodings > 0 {
            return "The request has both Content-Length and Transfer-Encoding (RFC 9112 §6.1)."
        }
        return nil
    }
}
