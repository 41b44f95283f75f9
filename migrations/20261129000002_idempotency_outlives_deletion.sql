-- An Idempotency-Key outlives the status it made: a retry after the status was deleted is
-- answered "deleted" (410) instead of posting the deleted text again.
ALTER TABLE status_idempotency_keys ALTER COLUMN status_id DROP NOT NULL;
ALTER TABLE status_idempotency_keys DROP CONSTRAINT status_idempotency_keys_status_id_fkey;
ALTER TABLE status_idempotency_keys ADD CONSTRAINT status_idempotency_keys_status_id_fkey
    FOREIGN KEY (status_id) REFERENCES statuses (id) ON DELETE SET NULL;
