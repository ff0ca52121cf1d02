-- Why: a node that ends a session, changes a role or revokes access must forget what it remembers
-- of that person before it answers, without waiting for its own NOTIFY to come back through
-- LISTEN. The trigger now also tells the connection that made the change (a NOTICE with SQLSTATE
-- PN001, read by the pool when the connection comes back, after the commit); Purser's pools turn
-- this on with purser.local_notices, so other clients (psql) see nothing new.
CREATE OR REPLACE FUNCTION visitor_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who text;
BEGIN
    IF TG_TABLE_NAME = 'tenants' THEN
        who := '*';
    ELSIF TG_TABLE_NAME = 'users' THEN
        who := coalesce(NEW.id, OLD.id)::text;
    ELSE
        who := coalesce(NEW.user_id, OLD.user_id)::text;
    END IF;
    PERFORM pg_notify('purser_visitors_changed', who);
    IF current_setting('purser.local_notices', true) = 'on' THEN
        RAISE NOTICE USING ERRCODE = 'PN001', MESSAGE = 'purser_visitors_changed', DETAIL = who;
    END IF;
    RETURN NULL;
END
$$;
