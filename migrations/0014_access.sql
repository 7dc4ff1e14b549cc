-- Who may call the API: tokens stored as their SHA-256 (the token itself is
-- shown once, when issued), each with a role and, for engineers and
-- customers, whom it speaks for.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    engineer_id TEXT,
    customer TEXT,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
-- Every write through the API, allowed or refused: who, as what, which
-- route and object, the answer's status, and when.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    principal TEXT,
    role TEXT,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    object TEXT NOT NULL,
    status BIGINT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);
