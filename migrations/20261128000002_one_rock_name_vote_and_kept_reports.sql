-- A member has one vote per rock for its name (voting again moves it), so one member
-- cannot flood a rock with names. Earlier extra votes: the latest one is kept.
DELETE FROM rock_name_votes v
 USING rock_name_votes newer
 WHERE newer.rock_id = v.rock_id AND newer.account_id = v.account_id
   AND (newer.created_at, newer.name_key) > (v.created_at, v.name_key);
ALTER TABLE rock_name_votes DROP CONSTRAINT rock_name_votes_pkey;
ALTER TABLE rock_name_votes ADD PRIMARY KEY (rock_id, account_id);
CREATE INDEX rock_name_votes_rock_name_idx ON rock_name_votes (rock_id, name_key);

-- Reports outlive the reported account and status: moderators keep what was reported
-- (the username and the status text at the time), even when the reported member deletes
-- the account to wipe the evidence. A reporter's own deletion still removes their reports.
ALTER TABLE reports ADD COLUMN target_username TEXT;
ALTER TABLE reports ADD COLUMN status_text TEXT;
UPDATE reports r SET target_username = a.username FROM accounts a WHERE a.id = r.target_account_id;
UPDATE reports r SET status_text = s.text FROM statuses s WHERE s.id = r.status_id;
ALTER TABLE reports ALTER COLUMN target_username SET NOT NULL;
ALTER TABLE reports ALTER COLUMN target_account_id DROP NOT NULL;
ALTER TABLE reports DROP CONSTRAINT reports_target_account_id_fkey;
ALTER TABLE reports ADD CONSTRAINT reports_target_account_id_fkey
    FOREIGN KEY (target_account_id) REFERENCES accounts (id) ON DELETE SET NULL;
