// Input that breaks a rule, field by field: 422 problem+json for the API, form messages for pages,
// one line per field for the CLI. The page and the API share the validators that throw it.
import HTTPServer

public struct ValidationError: HTTPResponseError, Equatable, CustomStringConvertible {
    public let fieldErrors: [FieldError]
    /// 422, or 409 when the value collides with one that exists (a member already invited).
    public let status: HTTPStatus

    public init(_ fieldErrors: [FieldError], status: HTTPStatus = .unprocessableContent) {
        self.fieldErrors = fieldErrors
        self.status = status
    }

    public init(field: String, _ detail: String, status: HTTPStatus = .unprocessableContent) {
        self.init([FieldError(field: field, detail: detail)], status: status)
    }

    public var detail: String? { "Some values need another look." }
    public var description: String { fieldErrors.map { "\($0.field): \($0.detail)" }.joined(separator: "\n") }
}
