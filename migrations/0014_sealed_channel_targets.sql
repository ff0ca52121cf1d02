-- Why: a Slack or Teams incoming-webhook URL (and a generic webhook's) is a credential: whoever
-- holds it can post into the customer's channel. It sat in the clear in notification_channels.target,
-- was copied into every delivery's destination and shown whole on the page and in the API. A URL
-- channel now keeps its whole URL sealed under the master key (sealed_target, bound to the
-- channel) and only scheme://host in target; the delivery log keeps only scheme://host.
-- Also: mail for a person names them (recipient_id), so that mail composed for someone who has
-- since left the tenant is not sent.

ALTER TABLE notification_channels ADD COLUMN sealed_target text;

-- SQL cannot seal (the key is not in the database): URL channels saved before this migration keep
-- their URL in target until the worker runs the notify.seal_targets job queued here (or
-- `purser admin rotate-master-key` seals them). NOT VALID: those rows are let be until then, while
-- every row written from now on must carry its sealed URL and show no more than scheme://host.
ALTER TABLE notification_channels ADD CONSTRAINT notification_channels_url_sealed
    CHECK (kind = 'email' OR (sealed_target IS NOT NULL AND target ~ '^([a-z][a-z0-9+.-]*://)?[^/?#@[:space:]]*$'))
    NOT VALID;

INSERT INTO jobs (kind, unique_key, max_attempts)
SELECT 'notify.seal_targets', 'notify.seal_targets', 100
WHERE EXISTS (SELECT 1 FROM notification_channels WHERE kind <> 'email' AND sealed_target IS NULL)
ON CONFLICT DO NOTHING;

-- The log keeps scheme://host of a URL destination (user information, port, path, query and
-- fragment dropped, as DestinationRedaction.url does); what does not read as a URL becomes 'unknown'.
-- Sending reads the channel's own target, so pending deliveries still go out.
UPDATE notification_deliveries
SET destination = coalesce(
    lower((substring(destination FROM '^([A-Za-z][A-Za-z0-9+.-]*://)')
          || substring(destination FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#]*@)?(\[[^]/?#[:space:]]*\]|[^]/?#:@[:space:]]+)'))),
    'unknown')
WHERE kind <> 'email';

ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_destination_redacted
    CHECK (kind = 'email' OR destination ~ '^([a-z][a-z0-9+.-]*://)?[^/?#@[:space:]]*$');

-- Mail for a person (a request's requester or watcher, a group's people) names them, and is sent
-- only while they still belong to the tenant (or are active staff). Mail to an address (an
-- invitation, an email channel) names nobody.
ALTER TABLE notification_deliveries ADD COLUMN recipient_id uuid REFERENCES users (id);
