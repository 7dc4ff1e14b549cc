-- When a part line's parts are expected on site (a reservation: handling
-- plus the road from its depot; a purchase request: the supplier's lead
-- time). NULL on lines written before this column.
ALTER TABLE ticket_parts ADD COLUMN eta BIGINT;
