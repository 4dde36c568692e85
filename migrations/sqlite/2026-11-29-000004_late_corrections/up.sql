-- Late corrections (RULES.md "Corrections"): a dose of an earlier day, found to be wrong,
-- is corrected by a request with a reason and its confirmation by a doctor who is not the
-- requester. Both are new rows; the dose row is never touched, and the old day is never
-- reopened for dosing. `site_id` and `dose_day` repeat the dose's, so that the register of
-- the original day and that of the day of the correction are indexed reads.

CREATE TABLE late_corrections (
    id            TEXT PRIMARY KEY NOT NULL,
    dose_id       TEXT NOT NULL UNIQUE REFERENCES doses (id),
    patient_id    TEXT NOT NULL REFERENCES patients (id),
    site_id       TEXT NOT NULL REFERENCES sites (id),
    dose_day      DATE NOT NULL,
    reason        TEXT NOT NULL CHECK (length(trim(reason)) BETWEEN 1 AND 300),
    requested_by  TEXT NOT NULL REFERENCES staff (id),
    requested_at  TIMESTAMP NOT NULL,
    -- Only for a dose of an earlier day than the one it was requested on. The service checks
    -- the clinic's dose day; the UTC date of the request is never before the clinic's
    -- yesterday, whatever the zone, so this holds too.
    CHECK (dose_day <= date(requested_at)),
    UNIQUE (id, dose_id, requested_by)
);
CREATE INDEX late_corrections_by_patient ON late_corrections (patient_id, dose_day);
CREATE INDEX late_corrections_by_site ON late_corrections (site_id, requested_at);

-- One confirmation per correction and per dose (the unique keys decide a race between two
-- doctors); it carries the requester so that the database itself refuses a requester
-- confirming their own correction.
CREATE TABLE late_correction_confirmations (
    late_correction_id  TEXT PRIMARY KEY NOT NULL REFERENCES late_corrections (id),
    dose_id             TEXT NOT NULL UNIQUE REFERENCES doses (id),
    patient_id          TEXT NOT NULL REFERENCES patients (id),
    site_id             TEXT NOT NULL REFERENCES sites (id),
    requested_by        TEXT NOT NULL REFERENCES staff (id),
    confirmed_by        TEXT NOT NULL REFERENCES staff (id),
    confirmed_at        TIMESTAMP NOT NULL,
    CHECK (confirmed_by <> requested_by),
    FOREIGN KEY (late_correction_id, dose_id, requested_by)
        REFERENCES late_corrections (id, dose_id, requested_by)
);
CREATE INDEX late_correction_confirmations_by_site ON late_correction_confirmations (site_id, confirmed_at);
CREATE INDEX late_correction_confirmations_by_patient ON late_correction_confirmations (patient_id);

-- Append-only, like the dose tables.
CREATE TRIGGER late_corrections_no_update BEFORE UPDATE ON late_corrections
BEGIN SELECT RAISE(ABORT, 'late_corrections is append-only'); END;
CREATE TRIGGER late_corrections_no_delete BEFORE DELETE ON late_corrections
BEGIN SELECT RAISE(ABORT, 'late_corrections is append-only'); END;
CREATE TRIGGER late_correction_confirmations_no_update BEFORE UPDATE ON late_correction_confirmations
BEGIN SELECT RAISE(ABORT, 'late_correction_confirmations is append-only'); END;
CREATE TRIGGER late_correction_confirmations_no_delete BEFORE DELETE ON late_correction_confirmations
BEGIN SELECT RAISE(ABORT, 'late_correction_confirmations is append-only'); END;

-- A REPLACE would delete the row it replaces without a DELETE trigger firing: refuse a
-- row whose key exists (the audit chain's row check catches what no trigger can).
CREATE TRIGGER late_corrections_no_replace BEFORE INSERT ON late_corrections
WHEN EXISTS (SELECT 1 FROM late_corrections WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'late_corrections: a row with this key already exists (append-only)'); END;
CREATE TRIGGER late_correction_confirmations_no_replace BEFORE INSERT ON late_correction_confirmations
WHEN EXISTS (SELECT 1 FROM late_correction_confirmations WHERE late_correction_id = NEW.late_correction_id)
BEGIN SELECT RAISE(ABORT, 'late_correction_confirmations: a row with this key already exists (append-only)'); END;
