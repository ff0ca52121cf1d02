// Errors in the domain's own words. Stores, rules and jobs throw these; they know nothing of HTTP.
// App/ErrorMapping.swift is the one place that gives each refusal its HTTP status and headers, so
// the API answers problem+json and pages the error page with the statuses below.
import struct HTTPServer.FieldError
import enum HTTPServer.JSONValue

/// Why the domain refused. Each case has exactly one HTTP status at the seam (noted here).
public enum Refusal: Sendable, Equatable {
    /// Values that break a rule (422).
    case invalid
    /// A value beyond its size limit (413).
    case tooLarge
    /// No such thing, or not one the caller may know of (404).
    case notFound
    /// The change collides with what exists (409).
    case conflict
    /// The change was based on a version that is no longer current (412).
    case changedSince
    /// The caller could not be told apart from anyone (401).
    case unauthenticated
    /// The caller lacks a permission or scope (403).
    case forbidden
    /// Too many attempts or too busy right now (429).
    case tooMany
}

/// An error the domain throws. Conforming types say why (`refusal`), and what may be shown.
public protocol DomainError: Error {
    var refusal: Refusal { get }
    /// A short heading of its own; nil uses the standard one for the refusal.
    var headline: String? { get }
    /// Specific to this occurrence, safe to show to the caller.
    var detail: String? { get }
    /// Per-field messages.
    var fieldErrors: [FieldError] { get }
    /// Seconds after which trying again may succeed.
    var retryAfterSeconds: Int? { get }
    /// Members the problem document carries beyond the standard ones (RFC 9457 §3.2).
    var extensionMembers: [String: JSONValue] { get }
}

extension DomainError {
    public var headline: String? { nil }
    public var detail: String? { nil }
    public var fieldErrors: [FieldError] { [] }
    public var retryAfterSeconds: Int? { nil }
    public var extensionMembers: [String: JSONValue] { [:] }
}

/// No such thing, or one the caller may not know of: the same answer for both.
public struct NotFound: DomainError, Equatable, CustomStringConvertible {
    public let detail: String?
    public init(detail: String? = nil) { self.detail = detail }
    public var refusal: Refusal { .notFound }
    public var description: String { detail ?? "not found" }
}
