// moto, the AWS API emulator from PyPI (scripts/python-requirements.txt), as a test peer on an
// ephemeral loopback port: SageMaker and CloudWatch at one address. Notes on what it does and does
// not do: /work/shared/NOTES.md and the SageMaker tests.
import Foundation

public final class MotoPeer: @unchecked Sendable {
    private let peer: PythonPeer
    public var url: String { "http://127.0.0.1:\(peer.port)" }

    /// `checkCredentials`: refuse access keys moto does not know, from the first call.
    public init(checkCredentials: Bool = false) throws {
        peer = try PythonPeer("moto_peer.py", arguments: checkCredentials ? ["--check-credentials"] : [])
    }
}
