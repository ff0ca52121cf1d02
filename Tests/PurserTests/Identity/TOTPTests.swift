import Foundation
@testable import Purser
import Testing
import TestSupport

@Suite struct TOTPTests {
    /// RFC 6238 appendix B (SHA-1), the last six of the eight published digits.
    @Test func theRFC6238VectorsHold() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let vectors: [(TimeInterval, String)] = [
            (59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"),
            (1_234_567_890, "005924"), (2_000_000_000, "279037"), (20_000_000_000, "353130"),
        ]
        for (seconds, code) in vectors {
            #expect(totp.code(at: Date(timeIntervalSince1970: seconds)) == code)
        }
    }

    @Test func oneStepOfDriftIsAcceptedAndNoMore() {
        let totp = TOTP.generate()
        let now = Date(timeIntervalSince1970: 1_795_000_015)
        let step = UInt64(1_795_000_015 / 30)
        #expect(totp.matchingStep(totp.code(at: now), at: now) == step)
        #expect(totp.matchingStep(totp.code(at: now.addingTimeInterval(-30)), at: now) == step - 1)
        #expect(totp.matchingStep(totp.code(at: now.addingTimeInterval(30)), at: now) == step + 1)
        #expect(totp.matchingStep(totp.code(at: now.addingTimeInterval(-90)), at: now) == nil)
        #expect(totp.matchingStep("12345", at: now) == nil)
        #expect(totp.matchingStep("１２３４５６", at: now) == nil, "non-ASCII digits are refused")
    }

    @Test func base32RoundTrips() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) % 256) }
            #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        }
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("mzxw 6ytb oi======") == Array("foobar".utf8))
        #expect(Base32.decode("M1") == nil)
    }

    /// The same secret in pyotp, an independent implementation, gives the same codes.
    @Test func codesAgreeWithPyotp() throws {
        let totp = TOTP.generate()
        let python = try TestEnvironment.venvBin("python")
        let times = [0, 59, 1_111_111_109, 1_795_000_015, 2_000_000_000]
        let result = try Subprocess.run(
            python,
            [
                "-c",
                """
                import sys, pyotp
                totp = pyotp.TOTP(sys.argv[1])
                print(" ".join(totp.at(int(t)) for t in sys.argv[2:]))
                """, Base32.encode(totp.secret),
            ] + times.map(String.init))
        #expect(result.status == 0, "\(result.output)")
        let expected = times.map { totp.code(at: Date(timeIntervalSince1970: TimeInterval($0))) }.joined(separator: " ")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
        let uri = totp.provisioningURI(account: "ada@acme.test", issuer: "Purser")
        let parsed = try Subprocess.run(python, ["-c", "import sys, pyotp; print(pyotp.parse_uri(sys.argv[1]).now())", uri])
        #expect(parsed.output.trimmingCharacters(in: .whitespacesAndNewlines) == totp.code(at: Date()))
    }
}
