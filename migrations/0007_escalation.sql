-- When a ticket nobody accepted in time was escalated (once per ticket).
ALTER TABLE tickets ADD COLUMN escalated_at BIGINT;
