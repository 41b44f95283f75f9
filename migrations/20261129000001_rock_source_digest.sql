-- What an imported rock was made from: SHA-256 over its photo file and face-crop file as
-- read. A re-run of `rocks import` compares it with the file now under the same name, so a
-- different image under a known name is reported instead of silently counted as present.
-- NULL for generated rocks and for rocks imported before this column existed.
ALTER TABLE rocks ADD COLUMN source_digest BYTEA;
