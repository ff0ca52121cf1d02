-- Why: a tenant-owned row could point at another tenant's row. requests.id was unique on its own
-- and request_comments, request_attachments, request_watchers and sla_events referenced
-- requests (id); channels, deliveries, their attempts and breakers were keyed on id alone. Row-level
-- security hides such a row, but the schema did not refuse it, and the next feature would copy
-- REFERENCES requests (id). Every tenant-owned table now leads its primary key, its unique keys and
-- its foreign keys to other tenant tables with tenant_id, so a reference names its tenant and can
-- only reach a row of the same tenant: (tenant_id, request_id) REFERENCES requests (tenant_id, id).
-- SchemaShapeTests reads the catalog and fails on a tenant table of any other shape.
--
-- Lookups by id alone stay indexed: the tenant policy ORs the tenant with the staff and worker
-- settings, so PostgreSQL cannot use it as an index condition, and staff and workers name no tenant
-- at all; each table that is found by its id (or its request's or channel's id) alone keeps a plain,
-- non-unique index on that column where the old unique key gave it one. The request list, the staff
-- queue and comments by request keep the indexes they use (requests_tenant_recent, requests_recent,
-- requests_sla_due, requests_priority_type, request_comments_request).
--
-- Deliberate exceptions, listed with the same reasons in SchemaShapeTests: jobs, audit_events and
-- audit_chains keep their keys. Their tenant_id is NULL on the rows of no tenant (system jobs, the
-- provider's audit chain), and a primary key column cannot be NULL; jobs are claimed across tenants by
-- their identity id (which job_effects references), and an audit event's place is (chain, sequence)
-- in its hash chain, the chain's name naming its tenant. No tenant table references them. They keep
-- row-level security, enabled and forced, with the tenant and staff policies.
--
-- Row-level security, its policies (the tenant's and staff_rows) and the grants are untouched:
-- only constraints and indexes change.

-- Requests: (tenant_id, number) stays the primary key; (tenant_id, id) becomes the key references use.
ALTER TABLE requests ADD CONSTRAINT requests_tenant_id_id_key UNIQUE (tenant_id, id);

ALTER TABLE request_comments DROP CONSTRAINT request_comments_request_id_fkey,
    DROP CONSTRAINT request_comments_pkey,
    ADD PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT request_comments_request_fkey FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id);

ALTER TABLE request_attachments DROP CONSTRAINT request_attachments_request_id_fkey,
    DROP CONSTRAINT request_attachments_pkey,
    ADD PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT request_attachments_request_fkey FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id);

-- A request's watchers are read and removed by request (and person) alone.
ALTER TABLE request_watchers DROP CONSTRAINT request_watchers_request_id_fkey,
    DROP CONSTRAINT request_watchers_pkey,
    ADD PRIMARY KEY (tenant_id, request_id, user_id),
    ADD CONSTRAINT request_watchers_request_fkey FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id);
CREATE INDEX request_watchers_request ON request_watchers (request_id, user_id);

-- One event per request, clock and kind, within the request's tenant (SLAChecks inserts ON CONFLICT on it).
ALTER TABLE sla_events DROP CONSTRAINT sla_events_request_id_fkey,
    DROP CONSTRAINT sla_events_request_id_clock_kind_key,
    DROP CONSTRAINT sla_events_pkey,
    ADD PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT sla_events_tenant_id_request_id_clock_kind_key UNIQUE (tenant_id, request_id, clock, kind),
    ADD CONSTRAINT sla_events_request_fkey FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id);

-- Nothing references requests (id) any more. Pages, the API, workers and staff still find a request
-- by its id alone (and the lists page after one), so the id keeps a plain index.
ALTER TABLE requests DROP CONSTRAINT requests_id_key;
CREATE INDEX requests_id ON requests (id);

-- Notification channels and deliveries: keyed (tenant_id, id). Their references are dropped first.
ALTER TABLE notification_breakers DROP CONSTRAINT notification_breakers_channel_id_fkey;
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_id_fkey;
ALTER TABLE notification_attempts DROP CONSTRAINT notification_attempts_delivery_id_fkey;

-- The primary key leads with the tenant, so the separate (tenant_id) index is no longer needed; a
-- channel is still found by its id alone (deleting, sealing, a delivery's channel).
ALTER TABLE notification_channels DROP CONSTRAINT notification_channels_pkey, ADD PRIMARY KEY (tenant_id, id);
DROP INDEX notification_channels_tenant;
CREATE INDEX notification_channels_id ON notification_channels (id);

-- A delivery is sent, retried and paged after by its id alone.
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_pkey,
    ADD PRIMARY KEY (tenant_id, id),
    -- Deleting a channel keeps its deliveries in the log and forgets only which channel it was.
    ADD CONSTRAINT notification_deliveries_channel_fkey FOREIGN KEY (tenant_id, channel_id)
        REFERENCES notification_channels (tenant_id, id) ON DELETE SET NULL (channel_id);
CREATE INDEX notification_deliveries_id ON notification_deliveries (id);

ALTER TABLE notification_attempts DROP CONSTRAINT notification_attempts_pkey,
    ADD PRIMARY KEY (tenant_id, delivery_id, attempt),
    ADD CONSTRAINT notification_attempts_delivery_fkey FOREIGN KEY (tenant_id, delivery_id)
        REFERENCES notification_deliveries (tenant_id, id) ON DELETE CASCADE;

-- One breaker per channel, found by the channel's id alone.
ALTER TABLE notification_breakers DROP CONSTRAINT notification_breakers_pkey,
    ADD PRIMARY KEY (tenant_id, channel_id),
    ADD CONSTRAINT notification_breakers_channel_fkey FOREIGN KEY (tenant_id, channel_id)
        REFERENCES notification_channels (tenant_id, id) ON DELETE CASCADE;
CREATE INDEX notification_breakers_channel ON notification_breakers (channel_id);
