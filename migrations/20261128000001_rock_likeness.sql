-- How the sign-up match compares with the best matches of reference faces (0..1); NULL
-- for accounts made before it was recorded.
ALTER TABLE accounts ADD COLUMN rock_likeness REAL;
