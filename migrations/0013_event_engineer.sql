-- The engineer an event concerns (assigned, reassigned, declined,
-- withdrawn) as a column, no longer read back out of the detail text.
-- Events written before this migration keep it NULL.
ALTER TABLE ticket_events ADD COLUMN engineer_id TEXT;
