-- The sshd sample of bench/access-expiry.sh, run after bench/access-seed.sql: the :sample grants of
-- tenant ax01 that end last become SSH grants (and their access requests SSH access requests) for
-- the principal ax01.bench-sshd.<:login> on the script's sshd, whose certificates the grants' holder
-- then asks Purser for. Prints each sampled grant's id and end (epoch seconds), earliest first.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE sampled ON COMMIT DROP AS
SELECT g.tenant_id, g.id, g.request_id, g.ends_at FROM access_grants g JOIN tenants t ON t.id = g.tenant_id
WHERE t.slug = 'ax01' ORDER BY g.ends_at DESC LIMIT :sample;
UPDATE access_requests r SET kind = 'ssh', role = NULL, host_name = 'bench-sshd', principal = 'ax01.bench-sshd.' || :'login'
FROM sampled s WHERE r.tenant_id = s.tenant_id AND r.id = s.request_id;
UPDATE access_grants g SET kind = 'ssh', role = NULL, host_name = 'bench-sshd', principal = 'ax01.bench-sshd.' || :'login'
FROM sampled s WHERE g.tenant_id = s.tenant_id AND g.id = s.id;
\copy (SELECT id, extract(epoch FROM ends_at) FROM sampled ORDER BY ends_at) TO STDOUT WITH (FORMAT text)
COMMIT;
