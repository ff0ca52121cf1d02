// A deployment endpoint's probe follows its rollout, in the rollout's own transaction: when a
// deployment goes live, the address its driver serves it at (ServingAddress) becomes
// `endpoints.url` and the endpoint's probe target (made, or brought up to date and enabled, due at
// once), with the deployment target's API key, if it has one, sealed onto the probe target
// (SealedColumn.probeCredentials: bound to the target, re-sealed by key rotation). When a rollback
// or abort takes the endpoint back, the endpoint's live version becomes the one before (or none),
// and an endpoint left with nothing live has its address cleared and its probe disabled (kept,
// with its history), so a deleted endpoint is never probed into an incident. The monitoring tick's
// own sync (ProbeTick.syncEndpoints) keeps the same rules for endpoints changed any other way.
import Foundation
import Postgres

enum ProbeRegistration {
    /// `endpoint` of `tenant` went live at `address`.
    static func wentLive(_ tx: Connection, tenant: UUID, endpoint: UUID, address: ServingAddress, keyring: Keyring, at now: Date) throws {
        guard
            let row = try tx.query(
                """
                UPDATE endpoints e SET url = $3, updated_at = $4 FROM environments env, deployment_targets t
                WHERE e.tenant_id = $1 AND e.id = $2 AND env.tenant_id = e.tenant_id AND env.id = e.environment_id
                  AND t.tenant_id = e.tenant_id AND t.id = e.target_id
                RETURNING left(env.name || '/' || t.name || '/' || e.name, 100), t.id,
                    (SELECT m.name FROM model_versions v JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id
                     WHERE v.tenant_id = e.tenant_id AND v.id = e.live_version_id),
                    (SELECT p.id FROM probe_targets p WHERE p.tenant_id = e.tenant_id AND p.endpoint_id = e.id)
                """, [tenant, endpoint, address.url, now]
            ).first
        else { return }
        let existing: UUID? = try row.decode(3)
        let id = existing ?? UUID.v7(at: now)
        var name: String = try row.require(0)
        // A URL added by hand may already hold the name: the endpoint's target then carries its id.
        if try !tx.query("SELECT 1 FROM probe_targets WHERE tenant_id = $1 AND name = $2 AND id <> $3", [tenant, name, id]).isEmpty {
            name = String(name.prefix(91)) + "-" + ProviderNames.short(endpoint)
        }
        // The target's API key, for an OpenAI-compatible endpoint: opened from the deployment
        // target's sealed credentials and sealed again, bound to the probe target.
        var sealed: String?
        var hint: String?
        if address.kind == .openAIChat,
            let key = try DeploymentTargets.credentials(tx, target: try row.require(1), keyring: keyring)?.apiKey, !key.isEmpty
        {
            sealed = try SealedColumn.probeCredentials.seal(Array(key.utf8), row: id, keyring: keyring)
            hint = ProbeTargets.hint(key)
        }
        try tx.query(
            """
            INSERT INTO probe_targets (tenant_id, id, endpoint_id, source, name, url, kind, model, sealed_credentials, credentials_hint,
                next_due_at, created_at, updated_at)
            VALUES ($1, $2, $3, 'endpoint', $4, $5, $6, $7, $8, $9, $10, $10, $10)
            ON CONFLICT (tenant_id, endpoint_id) DO UPDATE
            SET name = EXCLUDED.name, url = EXCLUDED.url, kind = EXCLUDED.kind, model = EXCLUDED.model,
                sealed_credentials = EXCLUDED.sealed_credentials, credentials_hint = EXCLUDED.credentials_hint, enabled = true,
                next_due_at = least(probe_targets.next_due_at, EXCLUDED.next_due_at), updated_at = EXCLUDED.updated_at,
                version = probe_targets.version + 1
            """,
            [tenant, id, endpoint, name, address.url, address.kind.rawValue, try row.decode(2) ?? "", sealed, hint, now])
        try AuditLog.record(
            AuditEvent(
                tenant: tenant, actor: .system, action: "monitoring.target_register", targetType: "probe_target", targetID: id.postgresText,
                reason: address.url, at: now), in: tx)
    }

    /// A rollback or abort of the deployment of `version` ended: an endpoint whose live version was
    /// `version` serves `restored` again (nil: nothing; its address is cleared and its probe disabled).
    static func rolledBack(_ tx: Connection, tenant: UUID, endpoint: UUID, version: UUID, restored: UUID?, at now: Date) throws {
        let changed = try tx.query(
            """
            UPDATE endpoints SET live_version_id = $4, url = CASE WHEN $4::uuid IS NULL THEN NULL ELSE url END, updated_at = $5
            WHERE tenant_id = $1 AND id = $2 AND live_version_id = $3 RETURNING id
            """, [tenant, endpoint, version, restored, now])
        guard !changed.isEmpty, restored == nil else { return }
        let retired = try tx.query(
            """
            UPDATE probe_targets SET enabled = false, updated_at = $3, version = version + 1
            WHERE tenant_id = $1 AND endpoint_id = $2 AND enabled RETURNING id
            """, [tenant, endpoint, now])
        for row in retired {
            try AuditLog.record(
                AuditEvent(
                    tenant: tenant, actor: .system, action: "monitoring.target_retire", targetType: "probe_target",
                    targetID: try row.require(0, as: UUID.self).postgresText, reason: "the endpoint's deployment was rolled back",
                    at: now), in: tx)
        }
    }
}
