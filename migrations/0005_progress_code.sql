-- A code the customer can use to follow their own ticket, and nothing else.
ALTER TABLE tickets ADD COLUMN progress_code TEXT;
CREATE UNIQUE INDEX tickets_by_progress_code ON tickets (progress_code);
