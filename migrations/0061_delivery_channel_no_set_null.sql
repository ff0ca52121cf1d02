-- Why: a delivery's reference to its channel forgot the channel by `ON DELETE SET NULL (channel_id)`.
-- Citus refuses SET NULL and SET DEFAULT on a foreign key that includes the distribution column, in
-- any spelling, so the key becomes a plain one (NO ACTION) and deleting a channel clears its
-- deliveries' channel_id itself, in the same transaction, after locking the channel row (a delivery
-- made meanwhile waits for the lock and then finds no channel). The log keeps every delivery, as
-- before (docs/scaling.md, "Ready to shard by tenant").
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_fkey,
    ADD CONSTRAINT notification_deliveries_channel_fkey FOREIGN KEY (tenant_id, channel_id)
        REFERENCES notification_channels (tenant_id, id);
