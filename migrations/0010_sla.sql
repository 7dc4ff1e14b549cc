-- The SLA tier the deadlines came from (standard or a customer contract's,
-- with its calendar) and the resolution deadline.
ALTER TABLE tickets ADD COLUMN sla_tier TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN resolution_due BIGINT;
