// The Location of a 201: where the thing just made (or the list it joined) is read.
import HTTPServer

extension Response {
    /// This answer with `path` as its Location header.
    func located(at path: String) -> Response {
        var located = self
        located.headers.set("Location", path)
        return located
    }
}
