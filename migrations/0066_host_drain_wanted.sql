-- Why: a host that is down remembers whether people drained it: when it answers again it comes back
-- draining (a drained host rebooted for maintenance stays out of rotation) instead of active.
ALTER TABLE gpu_hosts ADD COLUMN drain_wanted boolean NOT NULL DEFAULT false;
UPDATE gpu_hosts SET drain_wanted = true WHERE state = 'draining';
