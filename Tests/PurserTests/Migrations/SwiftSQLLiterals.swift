import Foundation

/// The SQL written in Purser's Swift sources: every string literal that reads like a statement, with
/// its interpolations kept as `⟪expression⟫` (a fragment named by a `static let` — `\(Deployment.joins)`
/// — is put back in its place), and the reason of the `// cross-tenant: <why>` comment that covers it.
///
/// A marker covers the literals that start on the lines after it, up to the next blank line.
struct SQLLiteral {
    let file: String
    let line: Int
    let text: String
    /// The covering marker's line and reason.
    let crossTenant: (line: Int, reason: String)?
}

enum SwiftSQLLiterals {
    /// One literal as written: where it starts, its text, the `static let` it initialises (if any)
    /// and the type declared last before it.
    struct Raw {
        let line: Int
        let text: String
        let fragmentName: String?
        let typeName: String?
    }

    static let marker = "cross-tenant:"

    /// The SQL literals of the files (path relative to the sources, and its text).
    static func sql(in files: [(path: String, source: String)]) -> [SQLLiteral] {
        var raws: [(path: String, raws: [Raw], markers: [Int: String], blankLines: Set<Int>)] = []
        var fragments: [String: String] = [:]
        for file in files {
            let (found, markers) = scan(file.source)
            var blank: Set<Int> = []
            for (index, line) in file.source.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.trimmingCharacters(in: .whitespaces).isEmpty {
                blank.insert(index + 1)
            }
            raws.append((file.path, found, markers, blank))
            for raw in found {
                guard let name = raw.fragmentName else { continue }
                fragments["\(raw.typeName ?? "").\(name)"] = raw.text
            }
        }
        var result: [SQLLiteral] = []
        for file in raws {
            for raw in file.raws {
                let text = resolve(raw.text, in: raw.typeName ?? "", fragments: fragments, depth: 0)
                guard looksLikeSQL(text) else { continue }
                result.append(
                    SQLLiteral(
                        file: file.path, line: raw.line, text: text, crossTenant: reason(above: raw.line, file.markers, file.blankLines)))
            }
        }
        return result
    }

    /// Upper-case keywords of a statement or a FROM fragment; prose in messages is not matched.
    static func looksLikeSQL(_ text: String) -> Bool {
        text.range(of: #"\b(SELECT|UPDATE|DELETE|INSERT)\b|\bFROM\s+\w+|\bJOIN\s+\w+"#, options: .regularExpression) != nil
    }

    /// The reason of the marker above `line` with no blank line between them.
    static func reason(above line: Int, _ markers: [Int: String], _ blank: Set<Int>) -> (line: Int, reason: String)? {
        var current = line - 1
        while current > 0 && !blank.contains(current) {
            if let reason = markers[current] { return (current, reason) }
            current -= 1
        }
        return nil
    }

    /// `⟪Type.name⟫`, `⟪Self.name⟫` and `⟪name⟫` replaced by the fragment they name, when there is one.
    static func resolve(_ text: String, in typeName: String, fragments: [String: String], depth: Int) -> String {
        guard depth < 4, text.contains("⟪") else { return text }
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "⟪"), let close = rest[open.upperBound...].range(of: "⟫") {
            output += rest[..<open.lowerBound]
            let expression = String(rest[open.upperBound..<close.lowerBound])
            let parts = expression.split(separator: ".").map(String.init)
            var key: String?
            if parts.count == 1 { key = "\(typeName).\(parts[0])" }
            if parts.count == 2 { key = "\(parts[0] == "Self" ? typeName : parts[0]).\(parts[1])" }
            // A nested type may stand between the fragment and its owner: a name used once is enough.
            if let name = parts.last, key.map({ fragments[$0] == nil }) ?? true {
                let named = fragments.keys.filter { $0.hasSuffix(".\(name)") }
                if named.count == 1 { key = named[0] }
            }
            if let key, let fragment = fragments[key] {
                output += resolve(fragment, in: String(key.split(separator: ".").first ?? ""), fragments: fragments, depth: depth + 1)
            } else {
                output += "⟪\(expression)⟫"
            }
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    /// Every string literal of a Swift source and the markers (line → reason) of its comments.
    static func scan(_ source: String) -> (literals: [Raw], markers: [Int: String]) {
        let characters = Array(source)
        var literals: [Raw] = []
        var markers: [Int: String] = [:]
        var index = 0
        var line = 1
        var lineStart = 0
        let fragmentPattern = try! NSRegularExpression(pattern: #"static\s+let\s+(\w+)\s*(?::\s*String\s*)?=\s*$"#)
        let types = declaredTypes(source)

        while index < characters.count {
            let character = characters[index]
            if character == "\n" {
                line += 1
                index += 1
                lineStart = index
                continue
            }
            if character == "/" && index + 1 < characters.count && characters[index + 1] == "/" {
                var end = index
                while end < characters.count && characters[end] != "\n" { end += 1 }
                let comment = String(characters[(index + 2)..<end]).trimmingCharacters(in: .whitespaces)
                if comment.hasPrefix(marker) {
                    markers[line] = comment.dropFirst(marker.count).trimmingCharacters(in: .whitespaces)
                }
                index = end
                continue
            }
            if character == "/" && index + 1 < characters.count && characters[index + 1] == "*" {
                index += 2
                while index + 1 < characters.count && !(characters[index] == "*" && characters[index + 1] == "/") {
                    if characters[index] == "\n" { line += 1 }
                    index += 1
                }
                index += 2
                continue
            }
            if character == "\""
                || (character == "#" && index + 1 < characters.count && (characters[index + 1] == "\"" || characters[index + 1] == "#"))
            {
                let before = String(characters[lineStart..<index])
                let startLine = line
                guard let literal = readLiteral(characters, from: &index, line: &line) else {
                    index += 1
                    continue
                }
                let range = NSRange(before.startIndex..., in: before)
                let fragment = fragmentPattern.firstMatch(in: before, range: range).flatMap { Range($0.range(at: 1), in: before) }
                    .map { String(before[$0]) }
                literals.append(Raw(line: startLine, text: literal, fragmentName: fragment, typeName: types[startLine]))
                continue
            }
            index += 1
        }
        return (literals, markers)
    }

    /// The type declared last at or before each line (1-based): the owner of a `static let` fragment.
    static func declaredTypes(_ source: String) -> [Int: String] {
        let pattern = try! NSRegularExpression(
            pattern: #"^\s*(?:(?:public|private|fileprivate|internal|final|indirect)\s+)*(?:enum|struct|class|extension|actor)\s+(\w+)"#)
        var types: [Int: String] = [:]
        var current: String?
        for (index, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = String(line)
            if let match = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                let name = Range(match.range(at: 1), in: text)
            {
                current = String(text[name])
            }
            types[index + 1] = current
        }
        return types
    }

    /// Reads the literal starting at `index` (`"…"`, `"""…"""`, or raw `#"…"#`), leaving `index` after
    /// it; interpolations come back as `⟪expression⟫`.
    static func readLiteral(_ characters: [Character], from index: inout Int, line: inout Int) -> String? {
        var hashes = 0
        var position = index
        while position < characters.count && characters[position] == "#" {
            hashes += 1
            position += 1
        }
        guard position < characters.count && characters[position] == "\"" else { return nil }
        let multiline = position + 2 < characters.count && characters[position + 1] == "\"" && characters[position + 2] == "\""
        let quotes = multiline ? 3 : 1
        position += quotes
        var text = ""
        func closes(at spot: Int) -> Bool {
            for offset in 0..<quotes where spot + offset >= characters.count || characters[spot + offset] != "\"" { return false }
            for offset in 0..<hashes where spot + quotes + offset >= characters.count || characters[spot + quotes + offset] != "#" {
                return false
            }
            return true
        }
        while position < characters.count {
            let character = characters[position]
            if closes(at: position) {
                index = position + quotes + hashes
                return text
            }
            if character == "\n" {
                if !multiline { break }
                line += 1
            }
            let escapes =
                hashes == 0
                || (position + hashes < characters.count && characters[(position + 1)...(position + hashes)].allSatisfy { $0 == "#" })
            if character == "\\" && escapes {
                let next = position + 1 + hashes
                if next < characters.count && characters[next] == "(" {
                    var depth = 1
                    var spot = next + 1
                    var expression = ""
                    while spot < characters.count && depth > 0 {
                        let inner = characters[spot]
                        if inner == "\"" {
                            var nested = spot
                            if readLiteral(characters, from: &nested, line: &line) != nil {
                                expression += String(characters[spot..<nested])
                                spot = nested
                                continue
                            }
                        }
                        if inner == "(" { depth += 1 }
                        if inner == ")" { depth -= 1 }
                        if depth > 0 { expression += String(inner) }
                        spot += 1
                    }
                    text += "⟪\(expression.trimmingCharacters(in: .whitespaces))⟫"
                    position = spot
                    continue
                }
                if next < characters.count {
                    if characters[next] == "\n" { line += 1 }
                    text += String(characters[next])
                    position = next + 1
                    continue
                }
            }
            text += String(character)
            position += 1
        }
        index = position
        return nil
    }
}
