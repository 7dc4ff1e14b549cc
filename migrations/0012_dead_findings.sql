-- Findings whose ticket writes failed on their own data (a constraint, a
-- value out of range): kept with the reason and the whole finding, never
-- dropped, so an operator can see and replay them.
CREATE TABLE dead_findings (
    id TEXT PRIMARY KEY,
    kept_at BIGINT NOT NULL,
    asset_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    reason TEXT NOT NULL,
    finding TEXT NOT NULL
);
CREATE INDEX dead_findings_by_time ON dead_findings (kept_at);
