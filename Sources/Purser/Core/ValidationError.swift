// Input that breaks a rule, field by field: 422 problem+json for the API, form messages for pages,
// one line per field for the CLI. The page and the API share the validators that throw it.
import HTTPServer

public struct ValidationError: HTTPResponseError, Equatable, CustomStringConvertible {
    public let fieldErrors: [FieldError]

    public init(_ fieldErrors: [FieldError]) { self.fieldErrors = fieldErrors }
    public init(field: String, _ detail: String) { self.init([FieldError(field: field, detail: detail)]) }

    public var status: HTTPStatus { .unprocessableContent }
    public var detail: String? { "Some values need another look." }
    public var description: String { fieldErrors.map { "\($0.field): \($0.detail)" }.joined(separator: "\n") }
}
