-- What the first request with an Idempotency-Key asked for, so that the same key with a
-- different request is refused rather than answered with the first status. Keys are kept
-- for a day (removed by the server's housekeeping).
ALTER TABLE status_idempotency_keys ADD COLUMN request_hash TEXT;
CREATE INDEX status_idempotency_keys_created_at_idx ON status_idempotency_keys (created_at);
