-- The audit chain covers the rows it records, is keyed, and (SQLite) refuses REPLACE.
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
-- * BEFORE INSERT triggers refuse a row whose primary key already exists: INSERT OR REPLACE
--   (and UPSERT) cannot rewrite history. The message ends in "already exists (append-only)",
--   which db::is_unique_violation reads as the unique violation it stands for.

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
) WITHOUT ROWID;
CREATE UNIQUE INDEX audit_rows_by_row ON audit_rows (table_name, row_id);

CREATE TRIGGER audit_rows_no_update BEFORE UPDATE ON audit_rows
BEGIN SELECT RAISE(ABORT, 'audit_rows is append-only'); END;
CREATE TRIGGER audit_rows_no_delete BEFORE DELETE ON audit_rows
BEGIN SELECT RAISE(ABORT, 'audit_rows is append-only'); END;
CREATE TRIGGER audit_rows_no_replace BEFORE INSERT ON audit_rows
WHEN EXISTS (SELECT 1 FROM audit_rows WHERE seq = NEW.seq AND ord = NEW.ord)
BEGIN SELECT RAISE(ABORT, 'audit_rows: a row with this key already exists (append-only)'); END;

CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'audit_log: a row with this key already exists (append-only)'); END;
CREATE TRIGGER patient_status_changes_no_replace BEFORE INSERT ON patient_status_changes
WHEN EXISTS (SELECT 1 FROM patient_status_changes WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'patient_status_changes: a row with this key already exists (append-only)'); END;
CREATE TRIGGER patient_photos_no_replace BEFORE INSERT ON patient_photos
WHEN EXISTS (SELECT 1 FROM patient_photos WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'patient_photos: a row with this key already exists (append-only)'); END;
CREATE TRIGGER orders_no_replace BEFORE INSERT ON orders
WHEN EXISTS (SELECT 1 FROM orders WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'orders: a row with this key already exists (append-only)'); END;
CREATE TRIGGER order_activations_no_replace BEFORE INSERT ON order_activations
WHEN EXISTS (SELECT 1 FROM order_activations WHERE order_id = NEW.order_id)
BEGIN SELECT RAISE(ABORT, 'order_activations: a row with this key already exists (append-only)'); END;
CREATE TRIGGER reviews_no_replace BEFORE INSERT ON reviews
WHEN EXISTS (SELECT 1 FROM reviews WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'reviews: a row with this key already exists (append-only)'); END;
CREATE TRIGGER ecgs_no_replace BEFORE INSERT ON ecgs
WHEN EXISTS (SELECT 1 FROM ecgs WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'ecgs: a row with this key already exists (append-only)'); END;
CREATE TRIGGER doses_no_replace BEFORE INSERT ON doses
WHEN EXISTS (SELECT 1 FROM doses WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'doses: a row with this key already exists (append-only)'); END;
CREATE TRIGGER dose_reversals_no_replace BEFORE INSERT ON dose_reversals
WHEN EXISTS (SELECT 1 FROM dose_reversals WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'dose_reversals: a row with this key already exists (append-only)'); END;
CREATE TRIGGER dose_reversal_confirmations_no_replace BEFORE INSERT ON dose_reversal_confirmations
WHEN EXISTS (SELECT 1 FROM dose_reversal_confirmations WHERE reversal_id = NEW.reversal_id)
BEGIN SELECT RAISE(ABORT, 'dose_reversal_confirmations: a row with this key already exists (append-only)'); END;
CREATE TRIGGER withheld_doses_no_replace BEFORE INSERT ON withheld_doses
WHEN EXISTS (SELECT 1 FROM withheld_doses WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'withheld_doses: a row with this key already exists (append-only)'); END;
CREATE TRIGGER rehab_cases_no_replace BEFORE INSERT ON rehab_cases
WHEN EXISTS (SELECT 1 FROM rehab_cases WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'rehab_cases: a row with this key already exists (append-only)'); END;
CREATE TRIGGER rehab_case_events_no_replace BEFORE INSERT ON rehab_case_events
WHEN EXISTS (SELECT 1 FROM rehab_case_events WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'rehab_case_events: a row with this key already exists (append-only)'); END;
CREATE TRIGGER drug_tests_no_replace BEFORE INSERT ON drug_tests
WHEN EXISTS (SELECT 1 FROM drug_tests WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'drug_tests: a row with this key already exists (append-only)'); END;
CREATE TRIGGER test_results_no_replace BEFORE INSERT ON test_results
WHEN EXISTS (SELECT 1 FROM test_results WHERE test_id = NEW.test_id)
BEGIN SELECT RAISE(ABORT, 'test_results: a row with this key already exists (append-only)'); END;
CREATE TRIGGER police_notifications_no_replace BEFORE INSERT ON police_notifications
WHEN EXISTS (SELECT 1 FROM police_notifications WHERE test_id = NEW.test_id)
BEGIN SELECT RAISE(ABORT, 'police_notifications: a row with this key already exists (append-only)'); END;
CREATE TRIGGER urine_selections_no_replace BEFORE INSERT ON urine_selections
WHEN EXISTS (SELECT 1 FROM urine_selections WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'urine_selections: a row with this key already exists (append-only)'); END;
CREATE TRIGGER alerts_no_replace BEFORE INSERT ON alerts
WHEN EXISTS (SELECT 1 FROM alerts WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'alerts: a row with this key already exists (append-only)'); END;
CREATE TRIGGER alert_acknowledgements_no_replace BEFORE INSERT ON alert_acknowledgements
WHEN EXISTS (SELECT 1 FROM alert_acknowledgements WHERE alert_id = NEW.alert_id)
BEGIN SELECT RAISE(ABORT, 'alert_acknowledgements: a row with this key already exists (append-only)'); END;
CREATE TRIGGER alert_resolutions_no_replace BEFORE INSERT ON alert_resolutions
WHEN EXISTS (SELECT 1 FROM alert_resolutions WHERE alert_id = NEW.alert_id)
BEGIN SELECT RAISE(ABORT, 'alert_resolutions: a row with this key already exists (append-only)'); END;
CREATE TRIGGER disclosures_no_replace BEFORE INSERT ON disclosures
WHEN EXISTS (SELECT 1 FROM disclosures WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'disclosures: a row with this key already exists (append-only)'); END;
CREATE TRIGGER sweep_runs_no_replace BEFORE INSERT ON sweep_runs
WHEN EXISTS (SELECT 1 FROM sweep_runs WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'sweep_runs: a row with this key already exists (append-only)'); END;
