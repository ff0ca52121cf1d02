// Input that breaks a rule, field by field: 422 problem+json for the API, form messages for pages,
// one line per field for the CLI. The page and the API share the validators that throw it.
import struct HTTPServer.FieldError
import enum HTTPServer.JSONValue

public struct ValidationError: DomainError, Equatable, CustomStringConvertible {
    public let fieldErrors: [FieldError]
    /// `.invalid` (422); `.conflict` (409) when the value collides with one that exists (a member
    /// already invited); `.tooLarge` (413) for a file beyond its limit.
    public let refusal: Refusal
    /// Problem members beyond the standard ones: a refused state change's `state` and `allowed`.
    public var extensionMembers: [String: JSONValue] = [:]

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

extension ValidationError {
    /// A state machine refusing a move or an action, the one way every state machine in Purser says
    /// so (service requests, deployments): 422 with the message on `field`, and the current `state`
    /// and the moves it `allowed` as problem members (RFC 9457 §3.2), so a client need not parse prose.
    public static func transitionRefused(field: String = "state", state: String, allowed: [String], _ detail: String) -> ValidationError {
        var error = ValidationError(field: field, detail)
        error.extensionMembers = ["state": .string(state), "allowed": .array(allowed.map { .string($0) })]
        return error
    }
}
