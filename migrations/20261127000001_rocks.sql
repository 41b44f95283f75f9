-- The rock gallery. Images live in object storage under photo_key / face_key.
CREATE TABLE rocks (
    id          BIGSERIAL PRIMARY KEY,
    source_key  TEXT NOT NULL UNIQUE,          -- e.g. import:rock_123, generated:42:7; makes import idempotent
    name        TEXT NOT NULL,
    photo_key   TEXT NOT NULL,
    face_key    TEXT NOT NULL,
    embedding   REAL[] NOT NULL,               -- the rock's appearance features (rock domain)
    source      TEXT NOT NULL CHECK (source IN ('imported', 'generated')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
