-- Why: a custom budget period may repeat. [starts_on, ends_on) is the first period; with `repeats`
-- the next begins the day that one ends and lasts as long, for ever after: a 14-day sprint budget
-- is starts_on 2026-12-07, ends_on 2026-12-21, repeats. Thresholds still fire once per period,
-- since budget_alerts is keyed by the period's first day; a calendar month always repeats.
ALTER TABLE budgets ADD COLUMN repeats boolean NOT NULL DEFAULT false;
ALTER TABLE budgets ADD CONSTRAINT budgets_repeats_custom CHECK (NOT repeats OR period = 'custom');
