-- What the ticket recommends: an ordinary repair, or (after repeated repairs
-- of the same fault on the unit) an exchange or refund, with the reason.
ALTER TABLE tickets ADD COLUMN remedy TEXT NOT NULL DEFAULT 'repair';
ALTER TABLE tickets ADD COLUMN remedy_note TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_by_asset_fault ON tickets (asset_id, fault_code, state);
