// Every place a sealed value is stored, in one registry. Features seal and open stored values
// through their column here, never through the keyring directly, so that key rotation
// (`purser admin rotate-master-key`) re-seals every one of them: a sealed column missing from
// `all` would keep its values under a key that the operator is told they may drop.
// Tests/PurserTests/Security/SealedColumnTests.swift scans a database for sealed values stored
// anywhere else.
import Foundation
import Postgres

public struct SealedColumn: Sendable {
    /// How the column holds `SealedValue.text`: as text, or as its UTF-8 bytes.
    enum Storage: Sendable { case text, bytea }

    public let table: String
    public let column: String
    let storage: Storage
    /// The columns that name a row, read as text, in the order `context` takes them.
    let rowColumns: [String]
    /// What a row's value is bound to (authenticated, not stored), so a value copied to another
    /// row or column does not open.
    let context: @Sendable ([String]) -> String

    public func seal(_ plaintext: [UInt8], row: [String], keyring: Keyring) throws -> String {
        try keyring.seal(plaintext, context: context(row)).text
    }

    public func open(_ stored: String, row: [String], keyring: Keyring) throws -> [UInt8] {
        guard let sealed = SealedValue(text: stored) else { throw Keyring.KeyringError.tampered }
        return try keyring.open(sealed, context: context(row))
    }

    public func seal(_ plaintext: [UInt8], row: UUID, keyring: Keyring) throws -> String {
        try seal(plaintext, row: [row.postgresText], keyring: keyring)
    }

    public func open(_ stored: String, row: UUID, keyring: Keyring) throws -> [UInt8] {
        try open(stored, row: [row.postgresText], keyring: keyring)
    }
}

extension SealedColumn {
    /// A person's TOTP secret, bound to the person (`totp:<id>`, as sealed since the first release).
    public static let secondFactor = SealedColumn(table: "users", column: "totp_secret", storage: .text, rowColumns: ["id"]) {
        "totp:" + $0[0]
    }

    /// A webhook's signing secret or a PagerDuty routing key, bound to the channel.
    static let channelSecret = SealedColumn(
        table: "notification_channels", column: "secret", storage: .text,
        rowColumns: ["id"]
    ) { "notification-channel:" + $0[0] }

    /// A URL channel's whole destination (a Slack or Teams incoming-webhook URL is a credential),
    /// bound to the channel; `target` beside it keeps only scheme and host.
    static let channelTarget = SealedColumn(
        table: "notification_channels", column: "sealed_target", storage: .text,
        rowColumns: ["id"]
    ) { "notification-channel-target:" + $0[0] }

    /// A kept API answer for Idempotency-Key replays (it may hold a secret shown once), bound to its key.
    static let idempotentAnswer = SealedColumn(
        table: "idempotency_keys", column: "body", storage: .bytea,
        rowColumns: ["owner", "route", "key"]
    ) {
        IdempotencyStore.context($0[0], $0[1], $0[2])
    }

    /// A deployment target's provider credentials (JSON), bound to the target.
    static let deploymentTargetCredentials = SealedColumn(
        table: "deployment_targets", column: "sealed_credentials", storage: .text, rowColumns: ["id"]
    ) { "deployment-target:" + $0[0] }

    /// Every column holding sealed values. Key rotation re-seals exactly these.
    public static let all: [SealedColumn] = [
        secondFactor, channelSecret, channelTarget, idempotentAnswer, deploymentTargetCredentials, sshAuthority,
        probeCredentials, providerChannelSecret,
    ]

    /// Re-seals, under the keyring's first key, every value of this column sealed by another key;
    /// returns how many. Rows are locked, found and rewritten by `ctid` in one transaction (`tx`,
    /// which must see every row: the owner's connection).
    func reseal(keyring: Keyring, in tx: Connection) throws -> Int {
        let text = storage == .bytea ? "convert_from(\(column), 'UTF8')" : column
        let names = rowColumns.map { "\($0)::text" }.joined(separator: ", ")
        let rows = try tx.query(
            """
            SELECT ctid::text, \(text), \(names) FROM \(table)
            WHERE \(column) IS NOT NULL AND split_part(\(text), '.', 1) <> $1 FOR UPDATE
            """, [keyring.keys[0].id])
        for row in rows {
            let identity = try (0..<rowColumns.count).map { try row.require(2 + $0, as: String.self) }
            let fresh = try keyring.reseal(try opened(row.require(1, as: String.self)), context: context(identity)).text
            let value: any PostgresEncodable = storage == .bytea ? Bytea(Array(fresh.utf8)) : fresh
            try tx.query("UPDATE \(table) SET \(column) = $2 WHERE ctid = $1::tid", [try row.require(0, as: String.self), value])
        }
        return rows.count
    }

    private func opened(_ stored: String) throws -> SealedValue {
        guard let sealed = SealedValue(text: stored) else { throw Keyring.KeyringError.tampered }
        return sealed
    }
}
