-- Why: p95 latency and time-to-first-token objectives raise alerts like availability does. A
-- target whose p95 over the alert window breaches an objective fires a signal into the incident
-- intake (fingerprint slo-latency:/slo-ttft:<target id>); when it began is kept here, so the
-- signal resolves (same fingerprint and start) once the p95 is back within, and fires only once
-- per breach. NULL: within the objective (or no objective).
ALTER TABLE probe_targets
    ADD COLUMN latency_breach_at timestamptz,
    ADD COLUMN ttft_breach_at timestamptz;
