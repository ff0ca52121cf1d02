// An OpenSSH public key as people paste it (`ssh-ed25519 AAAA… comment`, one line of
// authorized_keys), checked before anything is signed for it: the algorithm is one Purser accepts,
// the encoded blob is well formed and names the same algorithm, the point or modulus is valid, and
// an RSA key is large enough. DSA is refused (OpenSSH itself dropped it).
import Crypto
import Foundation

public struct OpenSSHPublicKey: Sendable, Equatable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case ed25519 = "ssh-ed25519"
        case ecdsaP256 = "ecdsa-sha2-nistp256"
        case ecdsaP384 = "ecdsa-sha2-nistp384"
        case ecdsaP521 = "ecdsa-sha2-nistp521"
        case rsa = "ssh-rsa"

        /// The type of a user certificate for a key of this algorithm (PROTOCOL.certkeys).
        public var certificateType: String { rawValue + "-cert-v01@openssh.com" }
    }

    /// The smallest RSA modulus accepted, in bits.
    public static let minimumRSABits = 3072

    public let algorithm: Algorithm
    /// The key as encoded in the base64 field: the algorithm's name, then its fields.
    public let blob: [UInt8]
    /// The comment after the key, if any (never part of what is signed or compared).
    public let comment: String
    /// The modulus size for RSA, the curve's size for ECDSA, 256 for Ed25519.
    public let bits: Int

    /// Reads one line of authorized_keys format (options before the key are not accepted).
    public init(parsing line: String) throws(OpenSSHKeyError) {
        let fields = line.trimmingCharacters(in: .whitespacesAndNewlines).split(
            maxSplits: 2, omittingEmptySubsequences: true, whereSeparator: { $0 == " " || $0 == "\t" }
        ).map(String.init)
        guard fields.count >= 2 else { throw OpenSSHKeyError.notOpenSSH }
        if fields[0] == "ssh-dss" { throw OpenSSHKeyError.dsa }
        guard let algorithm = Algorithm(rawValue: fields[0]) else {
            if fields[0].contains("-cert-v01@openssh.com") { throw OpenSSHKeyError.certificate }
            throw OpenSSHKeyError.unsupportedAlgorithm(String(fields[0].prefix(60)))
        }
        guard let data = Data(base64Encoded: fields[1]) else { throw OpenSSHKeyError.notOpenSSH }
        try self.init(blob: Array(data), comment: fields.count > 2 ? fields[2] : "", expected: algorithm)
    }

    /// Reads a public key blob (the wire encoding), e.g. a certificate's signature key.
    public init(blob: [UInt8], comment: String = "") throws(OpenSSHKeyError) {
        var reader = SSHReader(blob)
        guard let name = try? reader.text() else { throw OpenSSHKeyError.notOpenSSH }
        if name == "ssh-dss" { throw OpenSSHKeyError.dsa }
        guard let algorithm = Algorithm(rawValue: name) else { throw OpenSSHKeyError.unsupportedAlgorithm(String(name.prefix(60))) }
        try self.init(blob: blob, comment: comment, expected: algorithm)
    }

    private init(blob: [UInt8], comment: String, expected: Algorithm) throws(OpenSSHKeyError) {
        var reader = SSHReader(blob)
        do {
            guard try reader.text() == expected.rawValue else { throw OpenSSHKeyError.mismatchedAlgorithm }
            switch expected {
            case .ed25519:
                let key = try reader.string()
                guard key.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: key)) != nil else {
                    throw OpenSSHKeyError.invalidKey("an Ed25519 key is 32 bytes")
                }
                bits = 256
            case .ecdsaP256, .ecdsaP384, .ecdsaP521:
                let curve = try reader.text()
                let point = try reader.string()
                bits = try Self.checkECDSA(expected, curve: curve, point: point)
            case .rsa:
                let exponent = try reader.string()
                let modulus = try reader.string()
                bits = try Self.checkRSA(exponent: exponent, modulus: modulus)
            }
        } catch let error as OpenSSHKeyError {
            throw error
        } catch {
            throw OpenSSHKeyError.notOpenSSH
        }
        guard reader.isAtEnd else { throw OpenSSHKeyError.notOpenSSH }
        self.algorithm = expected
        self.blob = blob
        self.comment = comment
    }

    private static func checkECDSA(_ algorithm: Algorithm, curve: String, point: [UInt8]) throws -> Int {
        guard algorithm.rawValue == "ecdsa-sha2-" + curve else { throw OpenSSHKeyError.mismatchedAlgorithm }
        let valid: Bool
        switch algorithm {
        case .ecdsaP256: valid = (try? P256.Signing.PublicKey(x963Representation: point)) != nil
        case .ecdsaP384: valid = (try? P384.Signing.PublicKey(x963Representation: point)) != nil
        default: valid = (try? P521.Signing.PublicKey(x963Representation: point)) != nil
        }
        guard valid else { throw OpenSSHKeyError.invalidKey("the point is not on \(curve)") }
        return algorithm == .ecdsaP256 ? 256 : algorithm == .ecdsaP384 ? 384 : 521
    }

    private static func checkRSA(exponent: [UInt8], modulus: [UInt8]) throws -> Int {
        // mpints are two's complement: a positive value whose top bit is set has a leading zero.
        let significant = modulus.drop(while: { $0 == 0 })
        guard let top = significant.first, modulus.first.map({ $0 & 0x80 == 0 }) == true,
            exponent.drop(while: { $0 == 0 }).count > 0, exponent.first.map({ $0 & 0x80 == 0 }) == true,
            significant.last.map({ $0 & 1 == 1 }) == true
        else { throw OpenSSHKeyError.invalidKey("the RSA modulus or exponent is malformed") }
        let bits = significant.count * 8 - top.leadingZeroBitCount
        guard bits >= minimumRSABits else { throw OpenSSHKeyError.weakRSA(bits: bits) }
        return bits
    }

    /// `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it.
    public var fingerprint: String {
        "SHA256:" + Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// The key as one authorized_keys line, with its comment if it has one.
    public var line: String {
        let key = algorithm.rawValue + " " + Data(blob).base64EncodedString()
        return comment.isEmpty ? key : key + " " + comment
    }

    /// The key's fields after its name, as a certificate of this key carries them after its nonce.
    var fieldsAfterName: [UInt8] {
        var reader = SSHReader(blob)
        _ = try? reader.string()
        return reader.rest()
    }
}

/// Why a public key was refused; `description` is written for the person who pasted it.
public enum OpenSSHKeyError: Error, Equatable, CustomStringConvertible {
    case notOpenSSH
    case dsa
    case certificate
    case unsupportedAlgorithm(String)
    case mismatchedAlgorithm
    case invalidKey(String)
    case weakRSA(bits: Int)

    public var description: String {
        switch self {
        case .notOpenSSH: "not an OpenSSH public key (expected one line such as \"ssh-ed25519 AAAA… comment\")"
        case .dsa: "DSA keys (ssh-dss) are refused: they are limited to 1024 bits and OpenSSH no longer accepts them"
        case .certificate: "this is a certificate; paste the public key itself (the .pub file, not -cert.pub)"
        case .unsupportedAlgorithm(let name):
            "the key type \"\(name)\" is not accepted (use ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa of 3072 bits or more)"
        case .mismatchedAlgorithm: "the key's encoded type does not match the type written before it"
        case .invalidKey(let why): "not a valid public key: \(why)"
        case .weakRSA(let bits): "the RSA key has \(bits) bits; at least \(OpenSSHPublicKey.minimumRSABits) are required"
        }
    }
}
