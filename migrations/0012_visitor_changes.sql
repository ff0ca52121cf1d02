-- Why: nodes keep signed-in visitors (a session with the person's memberships) in memory, so that
-- a page does not begin with four round trips. Anything that changes who a visitor is tells every
-- node at commit, by person: a session ended, moved to another stage or had its times moved (its
-- activity stamp, written at most once a minute, included), the person changed
-- (status, roles, name, second factor, password), a membership added, changed or removed; a
-- tenant changed (status, name) tells them to forget everyone ("*").
CREATE FUNCTION visitor_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tenants' THEN
        PERFORM pg_notify('purser_visitors_changed', '*');
    ELSIF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('purser_visitors_changed', coalesce(NEW.id, OLD.id)::text);
    ELSE
        PERFORM pg_notify('purser_visitors_changed', coalesce(NEW.user_id, OLD.user_id)::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER visitor_changed AFTER UPDATE OF ended_at, stage, last_seen_at, expires_at OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION visitor_changed();
CREATE TRIGGER visitor_changed AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION visitor_changed();
CREATE TRIGGER visitor_changed AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION visitor_changed();
CREATE TRIGGER visitor_changed AFTER UPDATE OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION visitor_changed();
