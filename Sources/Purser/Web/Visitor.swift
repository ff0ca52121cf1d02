// Who is looking at a page: the session, the tenants they belong to, and the form token that
// every POST from them must carry.
import Foundation
import HTTPServer

/// One tenant a person works in, as the layout and the tenant pages need it.
public struct TenantMembership: Sendable {
    public let id: UUID
    public let slug: String
    public let key: String
    public let name: String
    /// Nil when a staff member looks at a tenant they do not belong to.
    public let role: CustomerRole?
}

public struct Visitor: Sendable {
    public let session: Session
    /// Active memberships in active tenants, by tenant name.
    public let tenants: [TenantMembership]
    /// The form token for this session (CSRF).
    public let formToken: String
    /// Portal roles held for a while through access grants, in any tenant (Access/Elevation.swift).
    public var elevations: [Elevation] = []

    public var user: UUID { session.user }
    public var isStaff: Bool { session.staffRole != nil }

    /// Staff and tenant admins must have a second factor before they may do anything else.
    public var mustEnrolSecondFactor: Bool {
        !session.totpEnabled && SecondFactor.isRequired(staffRole: session.staffRole, roles: tenants.compactMap(\.role))
    }

    /// The principal for a tenant page: the member's role there, and any staff role.
    public func principal(in tenant: TenantMembership?) -> Principal {
        Principal(user: session.user, tenantRole: tenant?.role, staffRole: session.staffRole, tenant: tenant?.id)
    }

    /// The principal for a tenant page at `moment` (the World's clock), with the visitor's elevations there.
    public func principal(in tenant: TenantMembership, at moment: Date) -> Principal {
        principal(in: tenant).elevated(by: elevations, at: moment)
    }

    /// The visitor acting through `request`, as the audit log records them (staff as staff).
    public func actor(_ request: Request) -> AuditActor {
        .person(user, isStaff: isStaff, origin: RequestOrigin(request))
    }
}

/// A page that needs a signed-in person redirects to the sign-in page, which comes back here.
public struct Redirect: HTTPResponseError {
    public let location: String
    public var extraHeaders: [(name: String, value: String)] = []

    public init(to location: String, headers: [(name: String, value: String)] = []) {
        self.location = location
        self.extraHeaders = headers
    }

    public var status: HTTPStatus { .seeOther }
    public var title: String { "See other" }
    public var detail: String? { "Continue at \(location)." }
    public var headers: HTTPHeaders { HTTPHeaders([("Location", location)] + extraHeaders) }
}

/// A POST without the form token of the session that showed the form.
public struct FormExpired: HTTPResponseError {
    public var status: HTTPStatus { .forbidden }
    public var title: String { "This form has expired" }
    public var detail: String? { "The form was not sent from a page of this session. Go back, reload the page and send it again." }
}

extension RequestOrigin {
    public init(_ request: Request) {
        self.init(requestID: request.requestID, address: request.clientAddress, userAgent: request.headers["User-Agent"])
    }
}

/// Paths people may be sent back to after signing in: on Purser, relative, nothing that a
/// browser would read as another host (`//evil`, `/\evil`) or a scheme.
enum BackPath {
    static func sanitize(_ candidate: String?) -> String? {
        guard let candidate, candidate.hasPrefix("/"), candidate.utf8.count <= 1000 else { return nil }
        let bytes = Array(candidate.utf8)
        if bytes.count > 1 && (bytes[1] == UInt8(ascii: "/") || bytes[1] == UInt8(ascii: "\\")) { return nil }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }) { return nil }
        return candidate
    }
}
