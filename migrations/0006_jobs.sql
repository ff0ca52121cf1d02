-- Why: anything slow or external runs outside the HTTP request. A request writes its intent and
-- enqueues a job in the same transaction; `purser work` claims jobs with FOR UPDATE SKIP LOCKED,
-- holds a lease while it works, and another worker takes the job when a lease runs out.
-- States: queued (waiting for run_at), running (leased), failed (an attempt failed; queued again
-- for its retry at run_at), succeeded, dead (out of attempts, kept for a person to look at).

CREATE TABLE jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{1,99}$'),
    payload jsonb NOT NULL DEFAULT '{}',
    tenant_id uuid REFERENCES tenants (id),
    -- Enqueueing a key that a pending job holds does nothing; reschedule and cancel find jobs by it.
    unique_key text CHECK (length(unique_key) BETWEEN 1 AND 300),
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'failed', 'succeeded', 'dead')),
    priority smallint NOT NULL DEFAULT 0,
    run_at timestamptz NOT NULL DEFAULT now(),
    -- Counted when the job is claimed, so a job that kills its worker every time still ends dead.
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 10 CHECK (max_attempts BETWEEN 1 AND 100),
    timeout_seconds integer NOT NULL DEFAULT 60 CHECK (timeout_seconds BETWEEN 1 AND 86400),
    lease_owner text,
    lease_expires_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE UNIQUE INDEX jobs_pending_key ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('queued', 'running', 'failed');
-- What a worker claims next: due, by priority, oldest first.
CREATE INDEX jobs_due ON jobs (priority DESC, run_at, id) WHERE state IN ('queued', 'failed');
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('succeeded', 'dead');

-- Side effects done once per job (the helper for idempotent handlers): a handler records a named
-- effect in the job's own completion, and a re-run finds it done.
CREATE TABLE job_effects (
    job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    done_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, name)
);

-- Schedules: every N seconds, or daily / weekly at a local time in a time zone. A worker that
-- finds a schedule due locks it (SKIP LOCKED), enqueues its job and moves next_run_at in one
-- transaction, so each period fires once however many workers run, with no leader.
CREATE TABLE job_schedules (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_.:-]{1,99}$'),
    kind text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    every_seconds integer CHECK (every_seconds BETWEEN 1 AND 31536000),
    -- Daily (weekday NULL) or weekly (weekday 1 = Monday … 7 = Sunday) at this local time.
    at_time time,
    weekday smallint CHECK (weekday BETWEEN 1 AND 7),
    time_zone text NOT NULL DEFAULT 'UTC',
    enabled boolean NOT NULL DEFAULT true,
    next_run_at timestamptz NOT NULL,
    last_run_at timestamptz,
    CHECK ((every_seconds IS NOT NULL) <> (at_time IS NOT NULL)),
    CHECK (weekday IS NULL OR at_time IS NOT NULL)
);
CREATE INDEX job_schedules_due ON job_schedules (next_run_at) WHERE enabled;

GRANT SELECT, INSERT, UPDATE, DELETE ON jobs, job_effects TO purser_app;
GRANT SELECT, INSERT, UPDATE ON job_schedules TO purser_app;

-- Jobs of a tenant are that tenant's rows: a request's transaction enqueues only for its own
-- tenant (or for none); workers (purser.worker) and staff see every job.
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_jobs ON jobs
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.worker', true) = 'on' OR current_setting('purser.staff', true) = 'on')
    WITH CHECK (tenant_id IS NULL OR tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.worker', true) = 'on' OR current_setting('purser.staff', true) = 'on');
