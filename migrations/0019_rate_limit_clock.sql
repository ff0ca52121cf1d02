-- Rate-limit buckets refill by the time the node passes in (its World's clock), not by the
-- database's clock, so the node that leases and the tests that move a clock agree. Still one
-- statement per lease: the bucket's row is locked only while the function runs.
DROP FUNCTION rate_limit_take(text, double precision, double precision, integer);

CREATE FUNCTION rate_limit_take(p_key text, p_capacity double precision, p_per_second double precision,
                                p_want integer, p_now timestamptz,
                                OUT granted integer, OUT remaining double precision)
LANGUAGE plpgsql AS $$
DECLARE
    stamp timestamptz;
    available double precision;
BEGIN
    INSERT INTO rate_limit_buckets (key, tokens, updated_at) VALUES (p_key, p_capacity, p_now)
    ON CONFLICT (key) DO NOTHING;
    SELECT least(p_capacity, tokens + greatest(0, extract(epoch FROM p_now - updated_at)) * p_per_second),
           greatest(updated_at, p_now)
      INTO available, stamp FROM rate_limit_buckets WHERE key = p_key FOR UPDATE;
    granted := greatest(0, least(p_want, floor(available)))::integer;
    remaining := available - granted;
    -- The stamp never moves back: a node whose clock is behind another's refills nothing twice.
    UPDATE rate_limit_buckets SET tokens = remaining, updated_at = stamp WHERE key = p_key;
END
$$;

GRANT EXECUTE ON FUNCTION rate_limit_take(text, double precision, double precision, integer, timestamptz) TO purser_app;
