-- Out-of-warranty work is quoted; the customer accepts before work starts.
ALTER TABLE tickets ADD COLUMN quote TEXT;
ALTER TABLE tickets ADD COLUMN quote_accepted_at BIGINT;
