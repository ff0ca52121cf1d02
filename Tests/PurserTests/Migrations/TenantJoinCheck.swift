import Foundation

/// Finds the joins of one SQL text between rows of tenant tables whose tenant ids the text does not
/// tie together. Two table references are joined when a comparison names a column of each (`ON r.id =
/// e.request_id`, a correlated subquery's `WHERE`, an `UPDATE … FROM`), or one is joined to the other
/// `USING (…)`. They are tied when equalities connect their tenant columns: `a.tenant_id = b.tenant_id`,
/// `USING (tenant_id, …)`, both pinned to the same parameter (`a.tenant_id = $1 AND b.tenant_id = $1`),
/// or through other tied references. `tenants` is keyed by `id`, every other tenant table by `tenant_id`.
///
/// It reads SQL the way Purser writes it: aliases resolved by the parenthesised query that defines
/// them, `UNION` branches apart, unqualified columns only in a query over one table. Interpolations
/// (`⟪expression⟫`) are values, like parameters.
struct TenantJoinCheck {
    /// Tables with a tenant column, and that column (`tenant_id`, or `id` for `tenants`).
    let tenantColumn: [String: String]
    /// Every table of the schema, tenant or not: only these are table references.
    let tables: Set<String>

    struct Token {
        enum Kind { case word, value, symbol, open, close, comma, dot, literal }
        let kind: Kind
        let text: String
        var lower: String { text.lowercased() }
    }

    struct Reference {
        let table: String
        let alias: String
        let scope: Int
        /// The token naming the table.
        let position: Int
    }

    static let keywords: Set<String> = [
        "select", "from", "where", "join", "left", "right", "inner", "outer", "full", "cross", "on", "using", "group", "order",
        "by", "limit", "offset", "union", "except", "intersect", "returning", "set", "values", "as", "and", "or", "not",
        "natural", "lateral", "for", "having", "window", "fetch", "into", "when", "then", "else", "end", "case", "is", "null",
        "in", "exists", "with", "do", "conflict", "default", "only", "true", "false", "distinct", "all", "any", "update",
        "delete", "insert", "skip", "locked", "nowait", "share", "asc", "desc", "nulls", "first", "last", "between", "like",
        "ilike", "nothing", "recursive", "materialized", "filter", "over", "partition", "rows", "range", "interval",
    ]
    static let comparisons: Set<String> = ["=", "<", ">", "<=", ">=", "<>", "!="]

    /// One join between two tenant tables, as `alias (table) ↔ alias (table)`, and whether it is tied.
    struct Join {
        let description: String
        let tied: Bool
    }

    /// What is wrong with one SQL text: each untied join.
    func problems(in sql: String) -> [String] { joins(in: sql).filter { !$0.tied }.map(\.description) }

    /// Every join of one SQL text between tenant tables.
    func joins(in sql: String) -> [Join] {
        let tokens = Self.tokenize(sql)
        let scopes = Self.scopes(tokens)
        let references = findReferences(tokens, scopes: scopes.of)

        // A column term: which reference and column a token range names.
        func resolve(_ alias: String, at scope: Int) -> Int? {
            var current: Int? = scope
            while let here = current {
                if let found = references.lastIndex(where: { $0.alias == alias && $0.scope == here }) { return found }
                current = scopes.parent[here]
            }
            return nil
        }
        enum Term: Hashable { case column(Int, String), value(String) }
        var termEnding: [Int: Term] = [:]
        var termStarting: [Int: Term] = [:]
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            if token.kind == .word, index + 2 < tokens.count, tokens[index + 1].kind == .dot, tokens[index + 2].kind == .word {
                if let reference = resolve(token.lower, at: scopes.of[index]) {
                    let term = Term.column(reference, tokens[index + 2].lower)
                    termStarting[index] = term
                    termEnding[index + 2] = term
                }
                index += 3
                continue
            }
            if token.kind == .value {
                termStarting[index] = .value(token.text)
                termEnding[index] = .value(token.text)
            } else if token.kind == .word, !Self.keywords.contains(token.lower),
                index + 1 >= tokens.count || (tokens[index + 1].kind != .open && tokens[index + 1].kind != .dot),
                index == 0 || tokens[index - 1].kind != .dot
            {
                let here = references.indices.filter { references[$0].scope == scopes.of[index] }
                if here.count == 1 {
                    termStarting[index] = .column(here[0], token.lower)
                    termEnding[index] = .column(here[0], token.lower)
                }
            }
            index += 1
        }

        var links: Set<[Int]> = []
        var union = UnionFind()
        func key(_ reference: Int) -> Term? { tenantColumn[references[reference].table].map { Term.column(reference, $0) } }
        func link(_ a: Int, _ b: Int) { if a != b { links.insert([min(a, b), max(a, b)]) } }

        for (position, token) in tokens.enumerated() {
            var equality = token.kind == .symbol && token.text == "="
            var right = position + 1
            if token.lower == "is", position + 4 < tokens.count, tokens[position + 1].lower == "not",
                tokens[position + 2].lower == "distinct", tokens[position + 3].lower == "from"
            {
                equality = true
                right = position + 4
            }
            guard equality || (token.kind == .symbol && Self.comparisons.contains(token.text)) else { continue }
            var left = position - 1
            while left >= 2, tokens[left].kind == .word, tokens[left - 1].kind == .symbol, tokens[left - 1].text == "::" { left -= 2 }
            guard let a = termEnding[left], let b = termStarting[right] else { continue }
            if case .column(let x, _) = a, case .column(let y, _) = b { link(x, y) }
            if equality { union.join(a, b) }
        }
        for using in usings(tokens, references: references, scopes: scopes.of) {
            for other in using.left {
                link(other, using.joined)
                if using.columns.contains("tenant_id"), let a = key(other), let b = key(using.joined) { union.join(a, b) }
            }
        }

        return links.sorted { $0.lexicographicallyPrecedes($1) }.compactMap { pair in
            guard let a = key(pair[0]), let b = key(pair[1]) else { return nil }
            let (x, y) = (references[pair[0]], references[pair[1]])
            return Join(description: "\(x.alias) (\(x.table)) ↔ \(y.alias) (\(y.table))", tied: union.connected(a, b))
        }
    }

    /// Tables named after FROM, JOIN, UPDATE, INTO, DELETE … USING, and the commas of a FROM list.
    func findReferences(_ tokens: [Token], scopes: [Int]) -> [Reference] {
        var references: [Reference] = []
        var inFromList: Set<Int> = []
        let endsFromList: Set<String> = [
            "where", "group", "order", "limit", "having", "window", "union", "except", "intersect", "returning", "set", "on",
            "select", "values", "offset", "for", "using",
        ]
        for (index, token) in tokens.enumerated() {
            let scope = scopes[index]
            let lower = token.lower
            if token.kind == .word, endsFromList.contains(lower) { inFromList.remove(scope) }
            let introduces: Bool
            switch lower {
            case "from": introduces = index == 0 || tokens[index - 1].lower != "distinct"
            case "join", "update", "into": introduces = true
            case "using": introduces = index + 1 < tokens.count && tokens[index + 1].kind == .word
            default: introduces = token.kind == .comma && inFromList.contains(scope)
            }
            guard token.kind == .comma || token.kind == .word, introduces else { continue }
            if lower == "from" || lower == "join" { inFromList.insert(scope) }
            var next = index + 1
            while next < tokens.count, ["only", "lateral"].contains(tokens[next].lower) { next += 1 }
            guard next < tokens.count, tokens[next].kind == .word else { continue }
            var name = tokens[next].lower
            if next + 2 < tokens.count, tokens[next + 1].kind == .dot, tokens[next + 2].kind == .word {
                guard name == "public" else { continue }  // a column (`IS NOT DISTINCT FROM r.x`) or another schema
                next += 2
                name = tokens[next].lower
            }
            guard tables.contains(name), next + 1 >= tokens.count || tokens[next + 1].kind != .open || lower == "into" else { continue }
            var alias = name
            var after = next + 1
            if after < tokens.count, tokens[after].lower == "as" { after += 1 }
            if after < tokens.count, tokens[after].kind == .word, !Self.keywords.contains(tokens[after].lower) {
                alias = tokens[after].lower
            }
            references.append(Reference(table: name, alias: alias, scope: scope, position: next))
        }
        return references
    }

    /// `JOIN t x USING (a, b)`: the reference joined, the references before it in its query, the columns.
    func usings(_ tokens: [Token], references: [Reference], scopes: [Int]) -> [(joined: Int, left: [Int], columns: Set<String>)] {
        var found: [(Int, [Int], Set<String>)] = []
        for (index, token) in tokens.enumerated()
        where token.lower == "using" && index + 1 < tokens.count && tokens[index + 1].kind == .open {
            // The table joined is the last one named before USING; a subquery or CTE joined there is none.
            guard let joined = references.lastIndex(where: { $0.position < index }), references[joined].scope == scopes[index],
                index - references[joined].position <= 3
            else { continue }
            var columns: Set<String> = []
            var spot = index + 2
            while spot < tokens.count && tokens[spot].kind != .close {
                if tokens[spot].kind == .word { columns.insert(tokens[spot].lower) }
                spot += 1
            }
            let left = (0..<joined).filter { references[$0].scope == references[joined].scope }
            found.append((joined, left, columns))
        }
        return found
    }

    /// Each token's query: a parenthesised group, and a new one for each branch after UNION and its kin.
    static func scopes(_ tokens: [Token]) -> (of: [Int], parent: [Int: Int]) {
        var of: [Int] = []
        var parent: [Int: Int] = [:]
        var stack = [0]
        var next = 1
        for token in tokens {
            if token.kind == .open {
                parent[next] = stack.last!
                stack.append(next)
                next += 1
            } else if token.kind == .close, stack.count > 1 {
                of.append(stack.removeLast())
                continue
            } else if ["union", "except", "intersect"].contains(token.lower) {
                parent[next] = parent[stack.last!]
                stack[stack.count - 1] = next
                next += 1
            }
            of.append(stack.last!)
        }
        return (of, parent)
    }

    static func tokenize(_ sql: String) -> [Token] {
        let characters = Array(sql)
        var tokens: [Token] = []
        var index = 0
        func isWord(_ character: Character) -> Bool { character.isLetter || character.isNumber || character == "_" }
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace {
                index += 1
            } else if character == "-" && index + 1 < characters.count && characters[index + 1] == "-" {
                while index < characters.count && characters[index] != "\n" { index += 1 }
            } else if character == "'" {
                index += 1
                while index < characters.count {
                    if characters[index] == "'" {
                        if index + 1 < characters.count && characters[index + 1] == "'" {
                            index += 2
                            continue
                        }
                        break
                    }
                    index += 1
                }
                index += 1
                tokens.append(Token(kind: .literal, text: "'"))
            } else if character == "⟪" {
                var end = index
                while end < characters.count && characters[end] != "⟫" { end += 1 }
                tokens.append(Token(kind: .value, text: String(characters[index..<min(end + 1, characters.count)])))
                index = end + 1
            } else if character == "$" && index + 1 < characters.count && characters[index + 1].isNumber {
                var end = index + 1
                while end < characters.count && characters[end].isNumber { end += 1 }
                tokens.append(Token(kind: .value, text: String(characters[index..<end])))
                index = end
            } else if character == "\"" {
                var end = index + 1
                while end < characters.count && characters[end] != "\"" { end += 1 }
                tokens.append(Token(kind: .word, text: String(characters[(index + 1)..<min(end, characters.count)])))
                index = end + 1
            } else if character.isNumber {
                var end = index
                while end < characters.count && (isWord(characters[end]) || characters[end] == ".") { end += 1 }
                tokens.append(Token(kind: .literal, text: String(characters[index..<end])))
                index = end
            } else if isWord(character) {
                var end = index
                while end < characters.count && isWord(characters[end]) { end += 1 }
                tokens.append(Token(kind: .word, text: String(characters[index..<end])))
                index = end
            } else if character == "(" || character == "[" {
                tokens.append(Token(kind: .open, text: "("))
                index += 1
            } else if character == ")" || character == "]" {
                tokens.append(Token(kind: .close, text: ")"))
                index += 1
            } else if character == "," {
                tokens.append(Token(kind: .comma, text: ","))
                index += 1
            } else if character == "." {
                tokens.append(Token(kind: .dot, text: "."))
                index += 1
            } else {
                let operators: Set<Character> = ["=", "<", ">", "!", "~", "+", "-", "*", "/", "%", "|", "&", "^", "@", "#", ":", "?"]
                var end = index
                while end < characters.count && operators.contains(characters[end]) {
                    end += 1
                    if end < characters.count && characters[end] == "-" && end + 1 < characters.count && characters[end + 1] == "-" {
                        break
                    }
                }
                if end == index { end += 1 }
                tokens.append(Token(kind: .symbol, text: String(characters[index..<end])))
                index = end
            }
        }
        return tokens
    }
}

/// Sets of equal terms.
struct UnionFind {
    private var parent: [AnyHashable: AnyHashable] = [:]

    mutating func root(_ item: AnyHashable) -> AnyHashable {
        var current = item
        while let next = parent[current], next != current { current = next }
        return current
    }

    mutating func join(_ a: AnyHashable, _ b: AnyHashable) {
        let (x, y) = (root(a), root(b))
        if x != y { parent[x] = y }
    }

    mutating func connected(_ a: AnyHashable, _ b: AnyHashable) -> Bool { root(a) == root(b) }
}
