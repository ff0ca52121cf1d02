// Decoding request bodies: JSON into Decodable types, and HTML form posts.
import Foundation

extension Request {
    /// Decodes a JSON body; a malformed or mistyped body is a 400 naming the field and the problem.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        guard !body.isEmpty else {
            throw HTTPError(.badRequest, detail: "The request needs a JSON body.")
        }
        do {
            return try decoder.decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            // Foundation reports a number that does not fit its field (1.5 or 1e30 for an integer) as
            // JSON that is not valid, with no field: told apart by reading the body as plain JSON.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
                (try? JSONSerialization.jsonObject(with: Data(body), options: .fragmentsAllowed)) != nil
            {
                throw HTTPError(
                    .badRequest, title: "Malformed JSON",
                    detail:
                        "A number in the body does not fit its field: a whole number is sent without a fraction or exponent, within range.")
            }
            throw HTTPError(
                .badRequest, title: "Malformed JSON", detail: Self.explain(error),
                fieldErrors: Self.field(of: error).map { [$0] } ?? [])
        }
    }

    /// Decodes a JSON object body that may carry only `fields`; any other field is a 400 naming it,
    /// so a misspelt field is never silently ignored.
    public func decode<T: Decodable>(_ type: T.Type, fields: Set<String>) throws -> T {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            let unknown = object.keys.filter { !fields.contains($0) }.sorted()
            if let first = unknown.first {
                throw HTTPError(
                    .badRequest, title: "Unknown field", detail: "'\(first)' is not a field of this request.",
                    fieldErrors: unknown.map { FieldError(field: $0, detail: "is not a field of this request") })
            }
        }
        return try decode(type)
    }

    /// Fields of an `application/x-www-form-urlencoded` body (or of the query, for a GET form).
    public func form() throws -> QueryParameters {
        if method == .get { return query }
        guard contentType == "application/x-www-form-urlencoded" else {
            throw HTTPError(.unsupportedMediaType, detail: "Send the form as application/x-www-form-urlencoded.")
        }
        return FormDecoding.parse(String(decoding: body, as: UTF8.self))
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    static func field(of error: DecodingError) -> FieldError? {
        switch error {
        case .keyNotFound(let key, let context):
            let name = path(context.codingPath + [key])
            return FieldError(field: name, detail: "is required")
        case .typeMismatch(let type, let context):
            return FieldError(field: path(context.codingPath), detail: "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return FieldError(field: path(context.codingPath), detail: "must be \(describe(type)), not null")
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            return FieldError(field: path(context.codingPath), detail: context.debugDescription)
        default:
            return nil
        }
    }

    static func explain(_ error: DecodingError) -> String {
        if let field = field(of: error) { return "'\(field.field)' \(field.detail)." }
        if case .dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "The body is not valid JSON" + (underlying.map { ": \($0)" } ?? ".")
        }
        return "The body does not match the expected shape."
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

enum FormDecoding {
    /// Splits `a=1&b=two+words` into pairs, decoding `+` and percent escapes.
    static func parse(_ text: String) -> QueryParameters {
        var pairs: [(name: String, value: String)] = []
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decodeComponent(kv[0])
            let value = kv.count > 1 ? decodeComponent(kv[1]) : ""
            pairs.append((name, value))
        }
        return QueryParameters(pairs)
    }

    private static func decodeComponent(_ part: Substring) -> String {
        let spaced = part.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
