// The If-Match precondition of RFC 9110 §13.1.1, for every change that names the version it is
// based on: `*` admits any current version; otherwise the header is a list of entity tags and
// admits the change when one of them equals the current tag by the strong comparison (a weak tag
// `W/"…"` never does). A header that is not such a list admits nothing, so the change is refused
// as stale rather than applied on a precondition the client did not state. Pages send the tag they
// rendered the same way, one tag in a hidden field.

/// Whether an If-Match value admits the representation whose current (strong) entity tag is given.
public enum IfMatch {
    public static func admits(_ header: String, current: String) -> Bool {
        let bytes = Array(header.utf8)
        var index = 0
        func skipSeparators() {
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                index += 1
            }
        }
        skipSeparators()
        if index < bytes.count, bytes[index] == UInt8(ascii: "*") {
            index += 1
            skipSeparators()
            return index == bytes.count
        }
        var admitted = false
        while index < bytes.count {
            skipSeparators()
            if index < bytes.count, bytes[index] == UInt8(ascii: ",") {  // empty list members are allowed
                index += 1
                continue
            }
            guard index < bytes.count else { break }
            var weak = false
            if bytes[index] == UInt8(ascii: "W"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                weak = true
                index += 2
            }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return false }
            let start = index
            index += 1
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") { index += 1 }
            guard index < bytes.count else { return false }  // an unterminated tag
            index += 1
            if !weak, String(decoding: bytes[start..<index], as: UTF8.self) == current { admitted = true }
            skipSeparators()
            guard index == bytes.count || bytes[index] == UInt8(ascii: ",") else { return false }
        }
        return admitted
    }
}
