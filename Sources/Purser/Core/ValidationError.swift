// Input that breaks a rule, field by field: 422 problem+json for the API, form messages for pages,
// one line per field for the CLI. The page and the API share the validators that throw it.
import struct HTTPServer.FieldError

public struct ValidationError: DomainError, Equatable, CustomStringConvertible {
    public let fieldErrors: [FieldError]
    /// `.invalid` (422); `.conflict` (409) when the value collides with one that exists (a member
    /// already invited); `.tooLarge` (413) for a file beyond its limit.
    public let refusal: Refusal

    public init(_ fieldErrors: [FieldError], refusal: Refusal = .invalid) {
        self.fieldErrors = fieldErrors
        self.refusal = refusal
    }

    public init(field: String, _ detail: String, refusal: Refusal = .invalid) {
        self.init([FieldError(field: field, detail: detail)], refusal: refusal)
    }

    public var detail: String? { "Some values need another look." }
    public var description: String { fieldErrors.map { "\($0.field): \($0.detail)" }.joined(separator: "\n") }
}
