-- Usernames of deleted accounts (lower-cased). They are never given out again, so an old
-- report, mention or link never points at someone new.
CREATE TABLE retired_usernames (
    username_key TEXT PRIMARY KEY,
    retired_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
