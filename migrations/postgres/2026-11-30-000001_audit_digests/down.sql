DROP TABLE audit_rows;
ALTER TABLE audit_head DROP COLUMN key_check;
ALTER TABLE audit_head DROP COLUMN keyed_from;
ALTER TABLE audit_log DROP COLUMN version;
