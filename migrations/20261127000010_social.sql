-- The social layer: statuses, follows, favourites, mentions, notifications, blocks,
-- mutes, reports, media, rock names. Everything an account owns goes with it
-- (ON DELETE CASCADE).

-- Time-ordered 64-bit ids: milliseconds since the Unix epoch << 16 | a sequence.
-- Ids sort by creation time, so keyset pagination by id is chronological.
CREATE SEQUENCE snowflake_seq;
CREATE FUNCTION snowflake_id() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
    SELECT ((extract(epoch FROM clock_timestamp()) * 1000)::BIGINT << 16)
         | (nextval('snowflake_seq') & 65535)
$$;

CREATE TABLE statuses (
    id                      BIGINT PRIMARY KEY DEFAULT snowflake_id(),
    account_id              BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    text                    TEXT NOT NULL CHECK (char_length(text) BETWEEN 1 AND 500),
    -- A reply survives its parent's deletion (as in Mastodon); it just loses the link.
    in_reply_to_id          BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
    in_reply_to_account_id  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    replies_count           INT NOT NULL DEFAULT 0,
    favourites_count        INT NOT NULL DEFAULT 0,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Profile pages; the primary key serves the public timeline.
CREATE INDEX statuses_account_id_id_idx ON statuses (account_id, id DESC);
-- Replies and thread context.
CREATE INDEX statuses_in_reply_to_id_idx ON statuses (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;

-- A retried POST with the same Idempotency-Key returns the first status.
CREATE TABLE status_idempotency_keys (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);
CREATE INDEX status_idempotency_keys_status_id_idx ON status_idempotency_keys (status_id);

CREATE TABLE status_mentions (
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX status_mentions_account_id_idx ON status_mentions (account_id);

CREATE TABLE follows (
    follower_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
-- Both directions: without this one a follower count is a sequential scan.
CREATE INDEX follows_followee_id_idx ON follows (followee_id, follower_id);

CREATE TABLE favourites (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, status_id)
);
CREATE INDEX favourites_status_id_idx ON favourites (status_id);

CREATE TABLE blocks (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, target_id),
    CHECK (account_id <> target_id)
);
CREATE INDEX blocks_target_id_idx ON blocks (target_id, account_id);

CREATE TABLE mutes (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, target_id),
    CHECK (account_id <> target_id)
);
CREATE INDEX mutes_target_id_idx ON mutes (target_id);

CREATE TABLE notifications (
    id              BIGINT PRIMARY KEY DEFAULT snowflake_id(),
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type            TEXT NOT NULL CHECK (type IN ('follow', 'favourite', 'reply', 'mention')),
    status_id       BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    read            BOOLEAN NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notifications_account_id_id_idx ON notifications (account_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (account_id) WHERE NOT read;
CREATE INDEX notifications_from_account_id_idx ON notifications (from_account_id);
CREATE INDEX notifications_status_id_idx ON notifications (status_id) WHERE status_id IS NOT NULL;
-- Re-following or re-favouriting does not notify twice.
CREATE UNIQUE INDEX notifications_once_idx ON notifications (account_id, from_account_id, type, COALESCE(status_id, 0));

CREATE TABLE reports (
    id                  BIGSERIAL PRIMARY KEY,
    account_id          BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id           BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
    comment             TEXT NOT NULL DEFAULT '' CHECK (char_length(comment) <= 1000),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX reports_account_id_idx ON reports (account_id);
CREATE INDEX reports_target_account_id_idx ON reports (target_account_id);

-- Uploaded images, stored only after every face was covered by a rock.
CREATE TABLE media_attachments (
    id          BIGINT PRIMARY KEY DEFAULT snowflake_id(),
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    preview_key TEXT NOT NULL,
    width       INT NOT NULL,
    height      INT NOT NULL,
    faces_covered INT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX media_attachments_account_id_idx ON media_attachments (account_id);
CREATE INDEX media_attachments_status_id_idx ON media_attachments (status_id) WHERE status_id IS NOT NULL;

-- Names members suggest for a rock; a suggestion is a vote. One vote per member per name.
CREATE TABLE rock_name_votes (
    rock_id     BIGINT NOT NULL REFERENCES rocks (id) ON DELETE CASCADE,
    name_key    TEXT NOT NULL,           -- lower(name): what makes two names the same
    name        TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (rock_id, name_key, account_id)
);
CREATE INDEX rock_name_votes_account_id_idx ON rock_name_votes (account_id);

-- Per-account counters, kept by triggers (a profile read is one row, not three counts).
CREATE TABLE account_stats (
    account_id      BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    statuses_count  INT NOT NULL DEFAULT 0,
    followers_count INT NOT NULL DEFAULT 0,
    following_count INT NOT NULL DEFAULT 0
);
INSERT INTO account_stats (account_id) SELECT id FROM accounts;

CREATE FUNCTION account_stats_on_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_stats (account_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_stats AFTER INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION account_stats_on_account();

CREATE FUNCTION social_counts_on_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE account_stats SET statuses_count = statuses_count + 1 WHERE account_id = NEW.account_id;
        IF NEW.in_reply_to_id IS NOT NULL THEN
            UPDATE statuses SET replies_count = replies_count + 1 WHERE id = NEW.in_reply_to_id;
        END IF;
        RETURN NEW;
    ELSE
        UPDATE account_stats SET statuses_count = statuses_count - 1 WHERE account_id = OLD.account_id;
        IF OLD.in_reply_to_id IS NOT NULL THEN
            UPDATE statuses SET replies_count = replies_count - 1 WHERE id = OLD.in_reply_to_id;
        END IF;
        RETURN OLD;
    END IF;
END $$;
CREATE TRIGGER statuses_counts AFTER INSERT OR DELETE ON statuses
    FOR EACH ROW EXECUTE FUNCTION social_counts_on_status();

CREATE FUNCTION social_counts_on_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE account_stats SET following_count = following_count + 1 WHERE account_id = NEW.follower_id;
        UPDATE account_stats SET followers_count = followers_count + 1 WHERE account_id = NEW.followee_id;
        RETURN NEW;
    ELSE
        UPDATE account_stats SET following_count = following_count - 1 WHERE account_id = OLD.follower_id;
        UPDATE account_stats SET followers_count = followers_count - 1 WHERE account_id = OLD.followee_id;
        RETURN OLD;
    END IF;
END $$;
CREATE TRIGGER follows_counts AFTER INSERT OR DELETE ON follows
    FOR EACH ROW EXECUTE FUNCTION social_counts_on_follow();

CREATE FUNCTION social_counts_on_favourite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE statuses SET favourites_count = favourites_count + 1 WHERE id = NEW.status_id;
        RETURN NEW;
    ELSE
        UPDATE statuses SET favourites_count = favourites_count - 1 WHERE id = OLD.status_id;
        RETURN OLD;
    END IF;
END $$;
CREATE TRIGGER favourites_counts AFTER INSERT OR DELETE ON favourites
    FOR EACH ROW EXECUTE FUNCTION social_counts_on_favourite();
