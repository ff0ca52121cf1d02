// Demo models and deployments for `purser dev`: the provider's catalogue of real open models (with
// their sizes and licences), Acme's environments validation → staging → production, a simulated
// target labelled sandbox, approval policies, and two registered models with versions, so a new
// person can file a canary, approve it and watch it go live from the pages alone.
import Foundation
import Postgres

enum DemoDeployments {
    /// (id, name, family, publisher, parameters, context, licence, card)
    static let catalogue: [(String, String, String, String, Int64, Int, String, String)] = [
        (
            "llama-3.1-8b-instruct", "Llama 3.1 8B Instruct", "Llama 3.1", "Meta", 8_030_000_000, 131_072,
            "Llama 3.1 Community Licence", "Multilingual instruction-tuned model; 128k context; tool use."
        ),
        (
            "llama-3.1-70b-instruct", "Llama 3.1 70B Instruct", "Llama 3.1", "Meta", 70_600_000_000, 131_072,
            "Llama 3.1 Community Licence", "The larger Llama 3.1; needs several GPUs (e.g. 4 × A100 80 GB at bf16)."
        ),
        (
            "mistral-7b-instruct-v0.3", "Mistral 7B Instruct v0.3", "Mistral", "Mistral AI", 7_250_000_000, 32_768, "Apache-2.0",
            "Extended vocabulary and function calling; 32k context."
        ),
        (
            "mixtral-8x7b-instruct-v0.1", "Mixtral 8x7B Instruct v0.1", "Mixtral", "Mistral AI", 46_700_000_000, 32_768, "Apache-2.0",
            "Sparse mixture of experts: about 13B parameters active per token."
        ),
        (
            "qwen2.5-7b-instruct", "Qwen2.5 7B Instruct", "Qwen2.5", "Alibaba Cloud (Qwen)", 7_610_000_000, 131_072, "Apache-2.0",
            "Strong at code and mathematics; structured (JSON) output."
        ),
        (
            "qwen2.5-72b-instruct", "Qwen2.5 72B Instruct", "Qwen2.5", "Alibaba Cloud (Qwen)", 72_700_000_000, 131_072,
            "Qwen Licence", "The largest Qwen2.5; its licence asks for an agreement above 100 million monthly users."
        ),
        (
            "gemma-2-9b-it", "Gemma 2 9B Instruct", "Gemma 2", "Google", 9_240_000_000, 8_192, "Gemma Terms of Use",
            "Compact instruction-tuned model; 8k context."
        ),
        (
            "phi-3-mini-4k-instruct", "Phi-3 Mini 4k Instruct", "Phi-3", "Microsoft", 3_820_000_000, 4_096, "MIT",
            "Small model for latency-sensitive work; 4k context."
        ),
    ]

    /// A rollout without hand-made alarms still rolls back a bad version: the catalogue's defaults.
    static let defaultGates = #"[{"signal":"error_rate","max":0.02},{"signal":"p95_latency_ms","max":2500}]"#

    static func seed(database: Database, tenant: UUID, keyring: Keyring, clock: any WallClock) throws {
        let now = clock.now
        try database.pool.transaction { tx in
            for entry in catalogue {
                try tx.query(
                    """
                    INSERT INTO model_catalogue (id, name, family, publisher, open_weights, licence, parameter_count, context_length,
                                                 card, default_gates, created_at)
                    VALUES ($1, $2, $3, $4, true, $5, $6, $7, $8, $9::jsonb, $10) ON CONFLICT (id) DO NOTHING
                    """,
                    [
                        entry.0, entry.1, entry.2, entry.3, entry.6, entry.4, entry.5,
                        "**\(entry.1)** by \(entry.3). \(entry.7)\n\nLicence: \(entry.6).", defaultGates, now,
                    ])
            }
        }
        let owner = try database.pool.query("SELECT id FROM users WHERE email = 'requester@acme.test'")[0].require(0, as: UUID.self)
        let environments = try database.inTenant(tenant) { tx in
            try ["validation", "staging", "production"].enumerated().map { position, name in
                let id = UUID.v7(at: now)
                try tx.query(
                    "INSERT INTO environments (tenant_id, id, name, position, created_at) VALUES ($1, $2, $3, $4, $5)",
                    [tenant, id, name, position + 1, now])
                return id
            }
        }
        // Validation and staging need one approval (tenant admins count as approvers); production
        // two, the provider's sign-off, and a day live in staging first.
        try database.inTenant(tenant) { tx in
            let day: TimeInterval = 86400
            for (environment, policy) in zip(
                environments,
                [
                    ApprovalPolicy(
                        requiredApprovals: 1, approverRoles: [.approver], providerSignoff: false, resetOnChange: true, validity: 7 * day),
                    ApprovalPolicy(
                        requiredApprovals: 1, approverRoles: [.approver], providerSignoff: false, resetOnChange: true, validity: 7 * day,
                        promotionGate: 60),
                    ApprovalPolicy(
                        requiredApprovals: 2, approverRoles: [.approver], providerSignoff: true, resetOnChange: true, validity: 3 * day,
                        promotionGate: day),
                ])
            {
                try ApprovalPolicies.set(tx, policy, tenant: tenant, environment: environment, by: nil, actor: .system, at: now)
            }
        }
        let targets = DeploymentTargets(database: database, keyring: keyring, clock: clock)
        _ = try targets.create(
            NewTarget(
                name: "sandbox", kind: TargetKind.sandbox.rawValue,
                settings: #"{"latency_ms":120,"error_rate":0.002,"ttft_ms":300,"tokens_per_second":45,"operation_seconds":2}"#),
            tenant: tenant, by: owner, actor: .system)
        let registry = ModelRegistry(database: database, clock: clock)
        let assistant = try registry.register(
            NewModel(
                name: "Support assistant", family: "Llama 3.1", source: "open_weights", licence: "Llama 3.1 Community Licence",
                catalogueID: "llama-3.1-8b-instruct"), tenant: tenant, owner: owner, actor: .system)
        for (version, note) in [
            ("1.0.0", "First fine-tune on the support archive."), ("1.1.0", "Adds the 2026 product catalogue; fewer refusals."),
        ] {
            _ = try registry.addVersion(
                NewModelVersion(
                    version: version, artifactURI: "s3://acme-models/support-assistant/\(version)/",
                    digest: "sha256:" + String(repeating: version == "1.0.0" ? "a1" : "b2", count: 32), format: "safetensors",
                    parameterCount: 8_030_000_000, contextLength: 131_072,
                    card: """
                        # Support assistant \(version)

                        Llama 3.1 8B Instruct, fine-tuned by Acme. \(note)

                        - **Intended use:** answering customers' questions about Acme's products.
                        - **Out of scope:** financial advice.
                        - **Evaluation:** 91 % on the internal support benchmark.
                        """), to: assistant.id, tenant: tenant, by: owner, actor: .system)
        }
        let mistral = try registry.register(
            NewModel(
                name: "Document triage", family: "Mistral", source: "open_weights", licence: "Apache-2.0",
                catalogueID: "mistral-7b-instruct-v0.3"), tenant: tenant, owner: owner, actor: .system)
        _ = try registry.addVersion(
            NewModelVersion(
                version: "0.3.0", artifactURI: "hf://mistralai/Mistral-7B-Instruct-v0.3",
                digest: "sha256:" + String(repeating: "c3", count: 32),
                format: "safetensors", parameterCount: 7_250_000_000, contextLength: 32_768,
                card: "# Document triage 0.3.0\n\nMistral 7B Instruct v0.3 as published, sorting incoming documents."),
            to: mistral.id, tenant: tenant, by: owner, actor: .system)
    }
}
