-- One schema for SQLite and PostgreSQL: BIGINT for integers and epoch-ms
-- times, TEXT for ids, enums and JSON; no engine-specific types.

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    asset_id TEXT NOT NULL,
    model TEXT NOT NULL,
    fault_code TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    description TEXT NOT NULL,
    detected_at BIGINT NOT NULL,
    response_due BIGINT NOT NULL,
    on_site_due BIGINT NOT NULL,
    engineer_id TEXT,
    assignment_note TEXT NOT NULL DEFAULT '',
    parts_note TEXT NOT NULL DEFAULT '',
    deadline_at_risk BIGINT NOT NULL DEFAULT 0,
    evidence_count BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- At most one open ticket per asset and fault, enforced by the database so
-- that several engine processes (or a redelivery) can never open a twin.
CREATE UNIQUE INDEX tickets_one_open ON tickets (asset_id, fault_code)
    WHERE state IN ('open', 'assigned', 'accepted', 'en_route', 'on_site');
CREATE INDEX tickets_by_state ON tickets (state, severity);
CREATE INDEX tickets_by_asset ON tickets (asset_id, detected_at);
CREATE INDEX tickets_by_engineer ON tickets (engineer_id, state);

CREATE TABLE ticket_events (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (ticket_id, seq)
);

CREATE TABLE ticket_evidence (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);

CREATE TABLE depot_stock (
    depot_id TEXT NOT NULL,
    part TEXT NOT NULL,
    on_hand BIGINT NOT NULL CHECK (on_hand >= 0),
    PRIMARY KEY (depot_id, part)
);

CREATE TABLE ticket_parts (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    part TEXT NOT NULL,
    qty BIGINT NOT NULL,
    depot_id TEXT,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (ticket_id, part)
);

CREATE TABLE dead_letters (
    id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload_hex TEXT NOT NULL
);
CREATE INDEX dead_letters_by_reason ON dead_letters (reason, received_at);
