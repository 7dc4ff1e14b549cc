-- When a dispatcher acknowledged the ticket (saw it and is on it): the
-- board stops putting it first. NULL until then.
ALTER TABLE tickets ADD COLUMN acknowledged_at BIGINT;
