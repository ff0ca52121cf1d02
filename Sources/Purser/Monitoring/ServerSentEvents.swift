// Reads an OpenAI-compatible chat completion stream (server-sent events, `data: {json}` lines,
// ending with `data: [DONE]`) as it arrives, piece by piece: the first piece of content is the
// first token, each content piece one more token.
import Foundation

struct ChatStreamReader {
    private var pending: [UInt8] = []
    private(set) var tokens = 0
    private(set) var done = false
    private(set) var firstTokenAt: Date?
    /// The first error object the server streamed, if any.
    private(set) var streamedError: String?

    /// Feeds bytes that arrived at `at`.
    mutating func feed(_ bytes: [UInt8], at: Date) {
        pending.append(contentsOf: bytes)
        while let newline = pending.firstIndex(of: 10) {
            var line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if line.last == 13 { line.removeLast() }
            read(String(decoding: line, as: UTF8.self), at: at)
        }
        // One line never needs more than this; a peer sending an endless line is cut off by size anyway.
        if pending.count > 1 << 20 { pending.removeAll() }
    }

    private mutating func read(_ line: String, at: Date) {
        guard line.hasPrefix("data:") else { return }
        let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
        if payload == "[DONE]" {
            done = true
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { return }
        if let error = object["error"] {
            streamedError = streamedError ?? String(describing: (error as? [String: Any])?["message"] ?? error).prefix(200).description
        }
        let choices = object["choices"] as? [[String: Any]] ?? []
        for choice in choices {
            let delta = choice["delta"] as? [String: Any]
            let content = (delta?["content"] as? String) ?? (choice["text"] as? String) ?? ""
            if !content.isEmpty {
                tokens += 1
                if firstTokenAt == nil { firstTokenAt = at }
            }
        }
    }
}
