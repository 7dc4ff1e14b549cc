-- Closing the loop: the engineer's service report (required to resolve) and
-- the customer's follow-up (one per closed ticket), as JSON documents.
ALTER TABLE tickets ADD COLUMN service_report TEXT;
ALTER TABLE tickets ADD COLUMN follow_up TEXT;
