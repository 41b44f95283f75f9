-- Accounts. The selfie and the face embedding are never stored: only the matched
-- rock, a copy of the ROCK's embedding (taken from rocks.embedding in SQL) and the
-- match similarity.
CREATE TABLE accounts (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL CHECK (username = lower(username) AND username ~ '^[a-z0-9_]{3,30}$'),
    password_hash   TEXT NOT NULL,
    display_name    TEXT NOT NULL DEFAULT '' CHECK (char_length(display_name) <= 50),
    note            TEXT NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    rock_id         BIGINT NOT NULL REFERENCES rocks (id) ON DELETE RESTRICT,
    rock_embedding  REAL[] NOT NULL,
    rock_similarity REAL NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Usernames are stored lowercase; the index on lower() keeps them unique case-insensitively
-- even if a future writer forgets to normalise.
CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username));
CREATE INDEX accounts_rock_id_idx ON accounts (rock_id);

-- Issued tokens. A token is valid while its jti has a row here that has not expired;
-- logout deletes the row.
CREATE TABLE sessions (
    jti         UUID PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_account_id_idx ON sessions (account_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
