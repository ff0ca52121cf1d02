-- Why: nodes keep the answers of request lists in memory and must hear at once when a tenant's
-- requests change, whoever changed them (a page, the API, a worker's SLA check, an operator's SQL).
-- A trigger on the table itself tells every listening node, by tenant, when the change commits
-- (NOTIFY is transactional, and repeats of one payload in a transaction are sent once).
CREATE FUNCTION requests_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('purser_requests_changed', coalesce(NEW.tenant_id, OLD.tenant_id)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER requests_changed AFTER INSERT OR UPDATE OR DELETE ON requests
    FOR EACH ROW EXECUTE FUNCTION requests_changed();
