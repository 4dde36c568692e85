-- The audit chain covers the rows it records and is keyed.
--
-- * audit_rows: for every row written to an append-only table, the audit entry (seq) that
--   recorded it and a digest of the row's canonical form. The entry's MAC covers these rows
--   in `ord` order, so `verify-audit` can re-read every row and name any that was edited,
--   replaced, removed or inserted behind the service's back.
-- * audit_log.version: 1 = the former unkeyed sha256 link; 2 = HMAC-SHA256 under the audit
--   key (MMT_AUDIT_KEY), which is not in the database. audit_head.keyed_from is the first
--   sequence number that must be keyed: the next entry after this migration. Rows that
--   already exist are sealed into the chain by the service at its next start.
-- * audit_head.key_check: a MAC of a fixed text under the key, so that the service can
--   refuse to continue the chain under a different key.
-- PostgreSQL has no INSERT OR REPLACE; ON CONFLICT DO UPDATE meets the UPDATE trigger.

ALTER TABLE audit_log ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT NOT NULL DEFAULT 1;
ALTER TABLE audit_head ADD COLUMN key_check TEXT;
UPDATE audit_head SET keyed_from = seq + 1;

CREATE TABLE audit_rows (
    seq         BIGINT NOT NULL,
    ord         INTEGER NOT NULL,
    table_name  TEXT NOT NULL,
    row_id      TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (seq, ord)
);
CREATE UNIQUE INDEX audit_rows_by_row ON audit_rows (table_name, row_id);

CREATE TRIGGER audit_rows_append_only BEFORE UPDATE OR DELETE ON audit_rows
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER audit_rows_no_truncate BEFORE TRUNCATE ON audit_rows
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
