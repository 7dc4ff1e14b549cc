-- The ticket's warranty position, assessed when it opens.
ALTER TABLE tickets ADD COLUMN warranty TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE tickets ADD COLUMN warranty_note TEXT NOT NULL DEFAULT '';
