-- Why: the model registry. The provider's catalogue of models it knows how to serve (open weights
-- such as Llama, Mistral, Qwen, Gemma, Phi, with their sizes and licences) is shared by every
-- tenant, like plans: it is read before any tenant is known (GET /api/v1/catalogue/models) and has no
-- tenant_id. A tenant's own models and their versions are tenant-owned, keyed (tenant_id, id) with
-- row-level security, enabled and forced, like every tenant table (docs/security.md).

CREATE TABLE model_catalogue (
    id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9._-]{1,80}$'),
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    family text NOT NULL CHECK (length(family) BETWEEN 1 AND 100),
    -- Who publishes the weights (Meta, Mistral AI, …).
    publisher text NOT NULL CHECK (length(publisher) BETWEEN 1 AND 100),
    open_weights boolean NOT NULL,
    licence text NOT NULL CHECK (length(licence) BETWEEN 1 AND 100),
    parameter_count bigint NOT NULL CHECK (parameter_count > 0),
    context_length integer NOT NULL CHECK (context_length > 0),
    card text NOT NULL DEFAULT '' CHECK (length(card) <= 50000),
    -- Health gates a rollout of this model uses when the deployment names none (LLMSignal thresholds).
    default_gates jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(default_gates) = 'array'),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A tenant's model: a name people use, where its weights come from, under which licence, whose it is.
CREATE TABLE models (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    family text NOT NULL CHECK (length(family) BETWEEN 1 AND 100),
    source text NOT NULL CHECK (source IN ('open_weights', 'provider', 'own')),
    licence text NOT NULL CHECK (length(licence) BETWEEN 1 AND 100),
    owner_id uuid REFERENCES users (id),
    catalogue_id text REFERENCES model_catalogue (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
-- Found by id alone from the API (/api/v1/models/{id}); the list pages by (tenant, created_at, id).
CREATE INDEX models_id ON models (id);
CREATE INDEX models_tenant_recent ON models (tenant_id, created_at DESC, id DESC);

CREATE TABLE model_versions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    model_id uuid NOT NULL,
    version text NOT NULL CHECK (version ~ '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'),
    artifact_uri text NOT NULL CHECK (length(artifact_uri) BETWEEN 1 AND 2000),
    digest text NOT NULL CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
    format text NOT NULL CHECK (format IN ('safetensors', 'gguf', 'onnx', 'pytorch', 'tensorrt', 'container')),
    parameter_count bigint NOT NULL CHECK (parameter_count > 0),
    context_length integer NOT NULL CHECK (context_length > 0),
    card text NOT NULL DEFAULT '' CHECK (length(card) <= 50000),
    default_gates jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(default_gates) = 'array'),
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, model_id, version),
    FOREIGN KEY (tenant_id, model_id) REFERENCES models (tenant_id, id)
);
CREATE INDEX model_versions_id ON model_versions (id);
CREATE INDEX model_versions_model ON model_versions (model_id, created_at DESC, id DESC);

GRANT SELECT, INSERT, UPDATE ON model_catalogue TO purser_app;
GRANT SELECT, INSERT, UPDATE ON models, model_versions TO purser_app;

ALTER TABLE models ENABLE ROW LEVEL SECURITY;
ALTER TABLE models FORCE ROW LEVEL SECURITY;
ALTER TABLE model_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE model_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON models
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON model_versions
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY staff_rows ON models TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON model_versions TO purser_staff USING (true) WITH CHECK (true);
