-- Notifications. The outbox: one row per notifiable ticket event, written
-- in the event's transaction; the delivery worker expands it into one
-- notification per recipient and channel and deletes it, in one transaction.
CREATE TABLE notice_outbox (
    ticket_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    notice TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);

-- One message to one recipient over one channel. The id is the idempotency
-- key (ticket, event, channel, recipient): a redelivery carries the same.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    notice TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    address TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifications_due ON notifications (status, next_at);
CREATE INDEX notifications_by_ticket ON notifications (ticket_id, seq);

-- Faults customers report (by phone to a dispatcher, or on their page):
-- attached to the ticket open for the unit, or the ticket they opened.
CREATE TABLE customer_reports (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    asset_id TEXT NOT NULL,
    fault_code TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    symptom TEXT NOT NULL,
    contact TEXT NOT NULL,
    suggested_severity TEXT,
    recorded_by TEXT NOT NULL,
    -- How long before the call the engine had opened the ticket (NULL: the call opened it).
    engine_lead_ms BIGINT
);
CREATE INDEX customer_reports_by_ticket ON customer_reports (ticket_id);

-- Complaints, against a ticket, an engineer or a model.
CREATE TABLE complaints (
    id TEXT PRIMARY KEY,
    ticket_id TEXT REFERENCES tickets (id),
    engineer_id TEXT,
    model TEXT,
    asset_id TEXT,
    customer TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    response_due BIGINT NOT NULL,
    responded_at BIGINT,
    response TEXT NOT NULL DEFAULT '',
    resolved_at BIGINT,
    resolution TEXT NOT NULL DEFAULT '',
    answered_at BIGINT,
    recorded_by TEXT NOT NULL
);
CREATE INDEX complaints_by_state ON complaints (state, received_at);
CREATE INDEX complaints_by_customer ON complaints (customer, received_at);

-- The visit window agreed with the customer (the last one booked).
ALTER TABLE tickets ADD COLUMN appointment_from BIGINT;
ALTER TABLE tickets ADD COLUMN appointment_to BIGINT;

-- Photos and documents on a ticket (from the engineer's phone), kept in
-- the database (shared by every engine, backed up with it) as base64.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    at BIGINT NOT NULL,
    author TEXT NOT NULL,
    media TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    caption TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL
);
CREATE INDEX attachments_by_ticket ON attachments (ticket_id, at);

-- When each part actually arrived on site (parts_24h counts it).
ALTER TABLE ticket_parts ADD COLUMN arrived_at BIGINT;
