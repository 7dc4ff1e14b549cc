-- The last position each engineer's mobile app reported (WGS84 degrees,
-- epoch ms): where dispatch measures their next journey from, also after a
-- restart.
CREATE TABLE engineer_positions (
    engineer_id TEXT PRIMARY KEY,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    at BIGINT NOT NULL
);
