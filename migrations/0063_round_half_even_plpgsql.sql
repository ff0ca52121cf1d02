-- Why: round_half_even (migration 0031) is a SQL function that names its argument four times, so
-- PostgreSQL does not inline it (it would compute the amount four times) and calls it as a SQL
-- function for every event rated: about 1.6 µs an event, ingest's and re-rating's. The same
-- expression as PL/pgSQL is one call to a cached plan: about 0.7 µs. Same rule, same results
-- (half to even: 1.5 → 2, 2.5 → 2, -2.5 → -2); CREATE OR REPLACE keeps the grant to purser_app.
CREATE OR REPLACE FUNCTION round_half_even(x numeric) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN (CASE WHEN x - floor(x) = 0.5 THEN floor(x) + (floor(x)::numeric % 2 <> 0)::int ELSE round(x) END)::bigint;
END
$$;
