// AWS Signature Version 4 (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html), in its
// four stages so each can be checked against AWS's published test suite: the canonical request,
// the string to sign, the signing key derived from the secret, and the Authorization header (or
// the signed query of a presigned URL). The signer reads no clock: the caller passes the time.
import Crypto
import Foundation

public struct SigV4: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload hash of a presigned URL, whose body is not known when it is signed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    /// Every service but S3 signs the path with dot segments and repeated slashes removed.
    public var normalizesPath = true
    /// Add x-amz-content-sha256 (S3 requires it; harmless elsewhere).
    public var sendsPayloadHash = false

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    // MARK: Stage 1: the canonical request

    public struct CanonicalRequest: Sendable, Equatable {
        public let text: String
        /// The lower-case header names signed, ";"-joined.
        public let signedHeaders: String
    }

    /// METHOD \n path \n query \n headers \n\n signed-headers \n payload-hash, with every header of
    /// the request signed.
    public func canonicalRequest(_ request: SignableRequest, payloadHash: String) -> CanonicalRequest {
        let path = normalizesPath ? Self.removeDotSegments(request.path) : request.path
        let headers = Self.canonicalHeaders(request.headers)
        let signed = headers.map(\.name).joined(separator: ";")
        let text = [
            request.method.uppercased(),
            Self.encodePath(path),
            Self.canonicalQuery(request.query),
            headers.map { "\($0.name):\($0.value)\n" }.joined(),
            signed,
            payloadHash,
        ].joined(separator: "\n")
        return CanonicalRequest(text: text, signedHeaders: signed)
    }

    // MARK: Stage 2: the string to sign

    /// yyyyMMdd/region/service/aws4_request
    public func scope(at date: Date) -> String { "\(Self.day(date))/\(region)/\(service)/aws4_request" }

    public func stringToSign(_ canonical: CanonicalRequest, at date: Date) -> String {
        [Self.algorithm, Self.timestamp(date), scope(at: date), Self.hex(SHA256.hash(data: Array(canonical.text.utf8)))]
            .joined(separator: "\n")
    }

    // MARK: Stage 3: the signing key

    /// HMAC chain "AWS4"+secret → date → region → service → "aws4_request".
    public static func signingKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    public func signature(_ stringToSign: String, at date: Date) -> String {
        let key = Self.signingKey(secret: credentials.secretAccessKey, day: Self.day(date), region: region, service: service)
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    // MARK: Stage 4: the Authorization header

    public func authorization(_ request: SignableRequest, at date: Date, payloadHash: String? = nil) -> String {
        let canonical = canonicalRequest(request, payloadHash: payloadHash ?? Self.payloadHash(request.body))
        let signature = signature(stringToSign(canonical, at: date), at: date)
        return "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(at: date)), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    /// The request with X-Amz-Date, the session token (signed) and Authorization added. Every
    /// header already on the request is signed, so it should carry Host.
    public func signed(_ request: SignableRequest, at date: Date) -> SignableRequest {
        var out = request
        out.headers.removeAll {
            ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"].contains($0.name.lowercased())
        }
        out.headers.append(.init("X-Amz-Date", Self.timestamp(date)))
        if let token = credentials.sessionToken { out.headers.append(.init("X-Amz-Security-Token", token)) }
        let hash = Self.payloadHash(request.body)
        if sendsPayloadHash { out.headers.append(.init("X-Amz-Content-Sha256", hash)) }
        out.headers.append(.init("Authorization", authorization(out, at: date, payloadHash: hash)))
        return out
    }

    /// Query signing (a presigned URL): the X-Amz-* parameters and the signature go in the query;
    /// only Host-like headers already on the request are signed.
    public func presigned(
        _ request: SignableRequest, at date: Date, expiresIn seconds: Int, payloadHash: String = SigV4.unsignedPayload
    ) -> SignableRequest {
        var out = request
        let signedNames = Self.canonicalHeaders(request.headers).map(\.name).joined(separator: ";")
        out.query.append(contentsOf: [
            .init("X-Amz-Algorithm", Self.algorithm),
            .init("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(at: date))"),
            .init("X-Amz-Date", Self.timestamp(date)),
            .init("X-Amz-Expires", String(seconds)),
            .init("X-Amz-SignedHeaders", signedNames),
        ])
        if let token = credentials.sessionToken { out.query.append(.init("X-Amz-Security-Token", token)) }
        let canonical = canonicalRequest(out, payloadHash: payloadHash)
        out.query.append(.init("X-Amz-Signature", signature(stringToSign(canonical, at: date), at: date)))
        return out
    }

    // MARK: Pieces

    public static func payloadHash(_ body: [UInt8]) -> String { hex(SHA256.hash(data: body)) }

    /// Lower-case names, sorted; values trimmed with inner runs of white space made one space;
    /// repeated names joined with commas in the order sent.
    static func canonicalHeaders(_ headers: [SignableRequest.Header]) -> [(name: String, value: String)] {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased().trimmingCharacters(in: .whitespaces)
            if values[name] == nil { order.append(name) }
            let words = header.value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            values[name, default: []].append(words.joined(separator: " "))
        }
        return order.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { ($0, values[$0]!.joined(separator: ",")) }
    }

    static func canonicalQuery(_ query: [SignableRequest.QueryItem]) -> String {
        query.map { (URIEncoding.encode($0.name), URIEncoding.encode($0.value)) }
            .sorted {
                $0.0 == $1.0
                    ? Array($0.1.utf8).lexicographicallyPrecedes(Array($1.1.utf8))
                    : Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8))
            }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func encodePath(_ path: String) -> String {
        path.isEmpty ? "/" : URIEncoding.encode(path, keepingSlash: true)
    }

    /// RFC 3986 §5.2.4, with empty segments (repeated slashes) dropped as AWS does.
    static func removeDotSegments(_ path: String) -> String {
        var segments: [Substring] = []
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for part in parts {
            switch part {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(part)
            }
        }
        let trailing = path.count > 1 && path.hasSuffix("/") && !segments.isEmpty
        return "/" + segments.joined(separator: "/") + (trailing ? "/" : "")
    }

    public static func timestamp(_ date: Date) -> String {
        let c = utc(date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    public static func day(_ date: Date) -> String { String(timestamp(date).prefix(8)) }

    private static func utc(_ date: Date) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
