// The probe target of the monitoring tests (Tests/peers/probe_target.py): an OpenAI-compatible
// endpoint streaming server-sent events on loopback, which fails on command, and targets that
// hang, send without end or redirect for ever.
import Foundation
import HTTPClient

public final class ProbeTargetPeer: @unchecked Sendable {
    private let peer: PythonPeer
    public var port: Int { peer.port }
    public var base: String { "http://127.0.0.1:\(peer.port)" }

    public init() throws {
        peer = try PythonPeer("probe_target.py", arguments: [])
    }

    /// Changes how the peer answers (nil: as it was); returns how many probe requests it has had.
    @discardableResult
    public func set(
        fail: Bool? = nil, failNext: Int? = nil, ttftMs: Int? = nil, gapMs: Int? = nil, tokens: Int? = nil, key: String? = nil
    ) throws -> Int {
        var query: [String] = []
        if let fail { query.append("fail=\(fail ? 1 : 0)") }
        if let failNext { query.append("fail_next=\(failNext)") }
        if let ttftMs { query.append("ttft_ms=\(ttftMs)") }
        if let gapMs { query.append("gap_ms=\(gapMs)") }
        if let tokens { query.append("tokens=\(tokens)") }
        if let key { query.append("key=\(key)") }
        let answer = try HTTPClient().get(base + "/control?" + query.joined(separator: "&"))
        let state = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
        return state?["requests"] as? Int ?? 0
    }

    /// How many probe requests the peer has had.
    public var requests: Int { (try? set()) ?? 0 }
}
