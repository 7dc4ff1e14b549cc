-- Engineers who dropped out (off sick, van broken, called away) from
-- `since` until `back_at` (epoch ms; the largest BIGINT while open-ended).
-- Dispatch never offers them a ticket meanwhile.
CREATE TABLE engineer_absences (
    engineer_id TEXT PRIMARY KEY,
    since BIGINT NOT NULL,
    back_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL
);
