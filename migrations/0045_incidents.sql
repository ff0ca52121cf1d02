-- Why: incidents. An outage is one incident however many alerts it raises: alerts from Prometheus
-- Alertmanager (and probes and cost anomalies) are recorded by fingerprint and join the open
-- incident of their service while it is inside its grouping window. Each incident has a service
-- request of type incident filed in the same transaction (SEV1 → P1 …), so the SLA clocks run and
-- customer-visible updates and internal notes are that request's replies and notes. The row keeps
-- its one pending escalation job (escalation_job_id), as access grants keep their expiry job.
-- All tenant-owned: keys lead with tenant_id, row-level security enabled and forced, with the
-- tenant policy and staff_rows.

CREATE TABLE incidents (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- What alerts are grouped by ('' when an incident was opened by hand without one).
    service text NOT NULL DEFAULT '' CHECK (length(service) <= 200),
    severity text NOT NULL CHECK (severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')),
    state text NOT NULL DEFAULT 'detected' CHECK (state IN ('detected', 'triaged', 'mitigated', 'resolved', 'reviewed')),
    source text NOT NULL CHECK (source IN ('manual', 'alertmanager', 'probe', 'cost')),
    request_id uuid NOT NULL,
    commander_id uuid REFERENCES users (id),
    responders uuid[] NOT NULL DEFAULT '{}',
    opened_by uuid REFERENCES users (id),
    opened_at timestamptz NOT NULL,
    -- The last alert that joined or refired: the grouping window counts from it.
    last_alert_at timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by uuid REFERENCES users (id),
    mitigated_at timestamptz,
    resolved_at timestamptz,
    reviewed_at timestamptz,
    -- The escalation level notified last (0: the first) and the one pending job that raises it.
    escalation_level integer NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
    escalation_job_id bigint,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, request_id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id)
);
CREATE INDEX incidents_recent ON incidents (tenant_id, opened_at DESC, id DESC);
-- Grouping: the open incident of a service.
CREATE INDEX incidents_open_service ON incidents (tenant_id, service, last_alert_at DESC)
    WHERE state IN ('detected', 'triaged', 'mitigated');
-- Staff read every tenant's open incidents.
CREATE INDEX incidents_open ON incidents (opened_at DESC, id DESC) WHERE state IN ('detected', 'triaged', 'mitigated');

-- One row per alert occurrence: Alertmanager's fingerprint names the alert (its labels), and a
-- new startsAt is a new occurrence. A repeated delivery updates the row (received counts them).
CREATE TABLE incident_alerts (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    fingerprint text NOT NULL CHECK (length(fingerprint) BETWEEN 1 AND 200),
    starts_at timestamptz NOT NULL,
    -- Nil for a resolution of an alert never seen firing, with no open incident of its service.
    incident_id uuid,
    alertname text NOT NULL DEFAULT '' CHECK (length(alertname) <= 200),
    service text NOT NULL DEFAULT '' CHECK (length(service) <= 200),
    severity text NOT NULL CHECK (severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')),
    status text NOT NULL CHECK (status IN ('firing', 'resolved')),
    labels jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
    annotations jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(annotations) = 'object'),
    ends_at timestamptz,
    first_received_at timestamptz NOT NULL,
    last_received_at timestamptz NOT NULL,
    resolved_received_at timestamptz,
    received integer NOT NULL DEFAULT 1 CHECK (received > 0),
    PRIMARY KEY (tenant_id, fingerprint, starts_at),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
);
CREATE INDEX incident_alerts_incident ON incident_alerts (tenant_id, incident_id, first_received_at);

-- The incident's own history: state changes, acknowledgements, escalations, commander and
-- responders, alerts joining and resolving. Replies and notes are the request's comments;
-- deployments and grants are read from their own tables.
CREATE TABLE incident_events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    incident_id uuid NOT NULL,
    at timestamptz NOT NULL,
    kind text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    actor_id uuid REFERENCES users (id),
    detail text NOT NULL DEFAULT '' CHECK (length(detail) <= 2000),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
);
CREATE INDEX incident_events_incident ON incident_events (tenant_id, incident_id, at);

-- Who is told when an incident stays unacknowledged: levels [{"after_minutes": n, "people":
-- [user ids], "channels": [channel ids]}]; level 0 is told at once, each next one n minutes after
-- the one before. No row: the tenant's subscribed channels and the commander only.
CREATE TABLE escalation_policies (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    levels jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(levels) = 'array'),
    updated_at timestamptz NOT NULL,
    updated_by uuid REFERENCES users (id),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id)
);

-- The review after an incident: required for SEV1 and SEV2 before "reviewed".
CREATE TABLE postmortems (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    incident_id uuid NOT NULL,
    summary text NOT NULL DEFAULT '' CHECK (length(summary) <= 20000),
    impact text NOT NULL DEFAULT '' CHECK (length(impact) <= 20000),
    timeline text NOT NULL DEFAULT '' CHECK (length(timeline) <= 20000),
    root_cause text NOT NULL DEFAULT '' CHECK (length(root_cause) <= 20000),
    went_well text NOT NULL DEFAULT '' CHECK (length(went_well) <= 20000),
    updated_at timestamptz NOT NULL,
    updated_by uuid REFERENCES users (id),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, incident_id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, id)
);

-- Action items of a postmortem, each with an owner and a due date, tracked to done.
CREATE TABLE postmortem_actions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    incident_id uuid NOT NULL,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    owner_id uuid NOT NULL REFERENCES users (id),
    due_on date NOT NULL,
    done_at timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, incident_id) REFERENCES postmortems (tenant_id, incident_id)
);
CREATE INDEX postmortem_actions_incident ON postmortem_actions (tenant_id, incident_id, due_on);

-- Runbooks: Markdown per alert name or per service, shown on the incidents they match.
CREATE TABLE runbooks (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    match_kind text NOT NULL CHECK (match_kind IN ('alertname', 'service')),
    match_value text NOT NULL CHECK (length(match_value) BETWEEN 1 AND 200),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body text NOT NULL CHECK (length(body) <= 50000),
    updated_at timestamptz NOT NULL,
    updated_by uuid REFERENCES users (id),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, match_kind, match_value)
);

GRANT SELECT, INSERT, UPDATE ON incidents, incident_alerts, escalation_policies, postmortems TO purser_app;
GRANT SELECT, INSERT ON incident_events TO purser_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON postmortem_actions, runbooks TO purser_app;

ALTER TABLE incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE incidents FORCE ROW LEVEL SECURITY;
ALTER TABLE incident_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_alerts FORCE ROW LEVEL SECURITY;
ALTER TABLE incident_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_events FORCE ROW LEVEL SECURITY;
ALTER TABLE escalation_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE escalation_policies FORCE ROW LEVEL SECURITY;
ALTER TABLE postmortems ENABLE ROW LEVEL SECURITY;
ALTER TABLE postmortems FORCE ROW LEVEL SECURITY;
ALTER TABLE postmortem_actions ENABLE ROW LEVEL SECURITY;
ALTER TABLE postmortem_actions FORCE ROW LEVEL SECURITY;
ALTER TABLE runbooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE runbooks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON incidents
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON incident_alerts
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON incident_events
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON escalation_policies
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON postmortems
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON postmortem_actions
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY tenant_rows ON runbooks
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY staff_rows ON incidents TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON incident_alerts TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON incident_events TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON escalation_policies TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON postmortems TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON postmortem_actions TO purser_staff USING (true) WITH CHECK (true);
CREATE POLICY staff_rows ON runbooks TO purser_staff USING (true) WITH CHECK (true);
