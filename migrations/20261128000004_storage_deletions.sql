-- Stored files whose rows are gone, waiting to be removed from object storage. Keys are
-- queued in the transaction that deletes the rows and forgotten once storage confirms the
-- removal, so an outage of object storage cannot leave a deleted member's images behind:
-- the server's housekeeping retries what is left.
CREATE TABLE storage_deletions (
    key       TEXT PRIMARY KEY,
    queued_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
