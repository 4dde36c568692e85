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
    CHECK (dose_day <= CAST(requested_at AS DATE)),
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
CREATE TRIGGER late_corrections_append_only BEFORE UPDATE OR DELETE ON late_corrections
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER late_corrections_no_truncate BEFORE TRUNCATE ON late_corrections
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER late_correction_confirmations_append_only BEFORE UPDATE OR DELETE ON late_correction_confirmations
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER late_correction_confirmations_no_truncate BEFORE TRUNCATE ON late_correction_confirmations
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
