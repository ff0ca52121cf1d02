// `purser admin create-token`: an API token for a person, printed once, with only scopes their role
// can use in the token's tenant (or, for staff, across tenants).
import ArgumentParser
import Foundation
import Postgres
import Purser

struct CreateToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-token",
        abstract: "Create an API token and print it (only this once).")

    @OptionGroup var options: CommonOptions
    @Option var email: String
    @Option(help: "The tenant the token is bound to (customers must name one); omit for a staff token.") var tenant: String?
    @Option(help: "Comma-separated, among those the person's role can use: \(Scope.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scopes: String
    @Option(help: "Lifetime: Nd or Nh, at most 366d.") var expires = "30d"
    @Option(help: "A name to recognise the token by.") var name = "created with purser admin"

    func run() throws {
        let scopeList: [Scope]
        switch Scope.parseList(scopes) {
        case .success(let list): scopeList = list
        case .failure(let unknown): throw ArgumentParser.ValidationError("unknown scope '\(unknown.name)'")
        }
        guard let lifetime = Self.lifetime(expires) else {
            throw ArgumentParser.ValidationError("--expires takes Nd or Nh, for example 30d")
        }
        let database = try AdminSetup.database(options)
        guard
            let user = try database.pool.query("SELECT id FROM users WHERE lower(email) = lower($1)", [email]).first?
                .require(0, as: UUID.self)
        else {
            throw ArgumentParser.ValidationError("there is no account for \(email)")
        }
        var tenantID: UUID?
        if let tenant {
            guard let id = try TenantStore(database: database, clock: AdminSetup.clock).id(slug: tenant) else {
                throw ArgumentParser.ValidationError("there is no tenant '\(tenant)'")
            }
            tenantID = id
        }
        // The token speaks for its owner, never for more: the store refuses a tenant they do not
        // belong to (or no tenant, unless staff) and scopes their role there cannot use.
        let created = try AdminSetup.reporting {
            try TokenStore(database: database, clock: AdminSetup.clock).create(
                user: user, tenant: tenantID, name: name, scopes: scopeList,
                lifetime: lifetime, actor: .system)
        }
        print(created.token)
    }

    static func lifetime(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let count = Int(text.dropLast()), count > 0 else { return nil }
        switch unit {
        case "d": return TimeInterval(count) * 86400
        case "h": return TimeInterval(count) * 3600
        default: return nil
        }
    }
}
