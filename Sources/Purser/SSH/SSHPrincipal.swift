// The names certificates carry and hosts list in AuthorizedPrincipalsFile. They name the tenant and
// the host, so one CA serves every tenant and a certificate for one tenant's host opens no other:
// a host lists only its own names. Tenant slugs begin with a letter or digit, so the `_pool` and
// `_purser` prefixes can never be a tenant's.
public enum SSHPrincipal {
    /// `<tenant-slug>.<host-name>.<login>` for a tenant's host; `_pool.<host-name>.<login>` for a host
    /// of the provider's shared pool (tenant nil).
    public static func forHost(tenantSlug: String?, hostName: String, login: String) -> String {
        (tenantSlug ?? "_pool") + "." + hostName + "." + login
    }

    /// Purser's own name on a host, for its health and drain commands: `_purser.<host-name>`.
    public static func purser(hostName: String) -> String { "_purser." + hostName }
}
