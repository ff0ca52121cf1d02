// Every case of AWS's published SigV4 test suite (Vectors/README.md), each stage checked on its own:
// canonical request, string to sign, Authorization header. moto accepts any signature, so these
// are the real check of the signer the SageMaker driver uses.
import AWSSignature
import Foundation
import Testing

@Suite struct SigV4VectorTests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let signer = SigV4(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")

    /// The folders holding a .req file, relative to Vectors.
    func cases() throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: Self.vectors.path)!
        return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".req") }
            .map { String($0.dropLast(4)) }.sorted()
    }

    @Test func everyVectorAtEveryStage() throws {
        let all = try cases()
        #expect(all.count >= 30, "the suite is in Vectors/")
        for name in all {
            let base = Self.vectors.appendingPathComponent(name)
            var request = try Self.parse(String(contentsOf: base.appendingPathExtension("req"), encoding: .utf8))
            // As botocore runs the suite: a token the canonical request shows is sent (and signed)
            // even where the .req leaves it out (get-vanilla-with-session-token).
            if let token = try Self.token(base), request.header("X-Amz-Security-Token") == nil {
                request.headers.append(.init("X-Amz-Security-Token", token))
            }
            let canonical = Self.signer.canonicalRequest(request, payloadHash: SigV4.payloadHash(request.body))
            #expect(try canonical.text == Self.read(base, "creq"), Comment(rawValue: "\(name): canonical request"))
            #expect(
                try Self.signer.stringToSign(canonical, at: Self.date) == Self.read(base, "sts"),
                Comment(rawValue: "\(name): string to sign"))
            #expect(
                try Self.signer.authorization(request, at: Self.date) == Self.read(base, "authz"),
                Comment(rawValue: "\(name): authorization"))
        }
    }

    /// `signed` adds the date, the token (signed, as post-sts-header-before expects) and the header.
    @Test func signedRequestWithSessionToken() throws {
        let base = Self.vectors.appendingPathComponent("post-sts-token/post-sts-header-before/post-sts-header-before")
        let token = try #require(try Self.token(base))
        let signer = SigV4(
            credentials: AWSCredentials(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token),
            region: "us-east-1", service: "service")
        let signed = signer.signed(SignableRequest(method: "POST", headers: [.init("Host", "example.amazonaws.com")]), at: Self.date)
        #expect(signed.header("X-Amz-Date") == "20150830T123600Z")
        #expect(signed.header("X-Amz-Security-Token") == token)
        #expect(try signed.header("Authorization") == Self.read(base, "authz"))
    }

    /// AWS's worked example of deriving a signing key (IAM User Guide, "Examples of how to derive a
    /// signing key for Signature Version 4": 20120215, us-east-1, iam).
    @Test func signingKeyDerivation() {
        let key = SigV4.signingKey(secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", day: "20120215", region: "us-east-1", service: "iam")
        let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        #expect(hex == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    /// Query signing, AWS's presigned-URL example (Amazon S3 API Reference, "Authenticating
    /// Requests: Using Query Parameters"): S3 signs the path as given.
    @Test func presignedURLExample() {
        var signer = SigV4(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3")
        signer.normalizesPath = false
        let request = SignableRequest(method: "GET", path: "/test.txt", headers: [.init("Host", "examplebucket.s3.amazonaws.com")])
        let signed = signer.presigned(request, at: Date(timeIntervalSince1970: 1_369_353_600), expiresIn: 86400)
        #expect(signed.query.last == .init("X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
        #expect(signed.query.first { $0.name == "X-Amz-Credential" }?.value == "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request")
    }

    @Test func payloadHashOfEmptyBody() {
        #expect(SigV4.payloadHash([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    // MARK: Reading the suite's files

    static func token(_ base: URL) throws -> String? {
        try read(base, "creq").split(separator: "\n").first { $0.hasPrefix("x-amz-security-token:") }.map { String($0.dropFirst(21)) }
    }

    static func read(_ base: URL, _ ext: String) throws -> String {
        try String(contentsOf: base.appendingPathExtension(ext), encoding: .utf8).replacingOccurrences(of: "\r", with: "")
    }

    /// "METHOD path[?query] HTTP/1.1", headers (a line starting with white space continues the one
    /// before), a blank line, the body.
    static func parse(_ raw: String) throws -> SignableRequest {
        let text = raw.replacingOccurrences(of: "\r\n", with: "\n")
        let (head, body): (Substring, Substring) =
            if let blank = text.range(of: "\n\n") { (text[..<blank.lowerBound], text[blank.upperBound...]) } else { (text[...], "") }
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst()
        let method = requestLine.prefix { $0 != " " }
        var target = requestLine.dropFirst(method.count + 1)
        if let version = target.range(of: " HTTP/", options: .backwards) { target = target[..<version.lowerBound] }
        var request = SignableRequest(method: String(method), body: Array(body.utf8))
        if let question = target.firstIndex(of: "?") {
            request.path = String(target[..<question])
            request.query = SignableRequest.QueryItem.parse(String(target[target.index(after: question)...]))
        } else {
            request.path = String(target)
        }
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", !request.headers.isEmpty {
                request.headers[request.headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                request.headers.append(.init(String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return request
    }
}
