-- Why: usage_event_ids carried a second index, (tenant_id, occurred_at), only so that retention
-- could find a tenant's oldest ids, and every ingested event paid one more index insertion for it
-- (at a random place when a batch spans months). Retention, the check for events past retention
-- and the time-zone rebuild now read usage_events' primary key (tenant_id, occurred_at, event_id)
-- instead, which they can since every id is inserted with its event in one statement and deleted
-- with it in one transaction; retention deletes the ids of the events it deletes.
DROP INDEX usage_event_ids_occurred;
