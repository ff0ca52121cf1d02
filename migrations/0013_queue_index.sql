-- Why: the staff queue's narrowest common filter, one priority and one type (P1 incidents), found
-- its fifty rows by walking the newest-first index past thousands of others (5–25 ms on 100,000
-- requests); this index answers it directly, in the queue's order.
CREATE INDEX requests_priority_type ON requests (priority, type, created_at DESC, id DESC);
