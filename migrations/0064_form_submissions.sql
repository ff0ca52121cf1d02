-- Why: a page form that creates something (a service request, an access request) carries a
-- one-time key rendered with it. The creating transaction claims the key for the person in the
-- tenant; a second submission of the same form (a double click, a resend after a slow answer)
-- waits on the key until the first commits and is then sent to what the first created instead of
-- creating it again. A first submission that fails rolls its claim back with it. Keys are kept a
-- day (system.purge).
CREATE TABLE form_submissions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    user_id uuid NOT NULL,
    form_key text NOT NULL CHECK (form_key ~ '^[0-9a-f-]{36}$'),
    target text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id, form_key)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON form_submissions TO purser_app;

ALTER TABLE form_submissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE form_submissions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON form_submissions
    USING (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
           OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on')
    WITH CHECK (tenant_id = nullif(current_setting('purser.tenant_id', true), '')::uuid
                OR current_setting('purser.staff', true) = 'on' OR current_setting('purser.worker', true) = 'on');
CREATE POLICY staff_rows ON form_submissions TO purser_staff USING (true) WITH CHECK (true);
