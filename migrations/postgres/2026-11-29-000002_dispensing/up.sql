-- Patients, dose orders, reviews, ECGs, guest dosing, absences, doses and their reversals.
-- Doses are in tenths of a mg. Clinical history tables are append-only.

CREATE TABLE counters (
    name   TEXT PRIMARY KEY NOT NULL,
    value  BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('patient_no', 10000000);

CREATE TABLE patients (
    id                TEXT PRIMARY KEY NOT NULL,
    patient_no        TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    id_number         TEXT NOT NULL UNIQUE,
    -- The id number reversed, so that a suffix search is an indexed prefix range.
    id_number_rev     TEXT NOT NULL,
    sex               TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date        DATE NOT NULL,
    phone             TEXT,
    address           TEXT,
    township          TEXT NOT NULL,
    home_site_id      TEXT NOT NULL REFERENCES sites (id),
    enrolled_on       DATE NOT NULL,
    risk_level        INTEGER NOT NULL CHECK (risk_level IN (1, 2, 3)),
    consent_to_share  BOOLEAN NOT NULL,
    status            TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX patients_by_site ON patients (home_site_id, status);
CREATE INDEX patients_by_township ON patients (township);
CREATE INDEX patients_by_id_rev ON patients (id_number_rev);

-- Single characters and pairs of the name, for an indexed search by any fragment.
CREATE TABLE patient_name_grams (
    gram        TEXT NOT NULL,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    PRIMARY KEY (gram, patient_id)
);

CREATE TABLE patient_status_changes (
    id           TEXT PRIMARY KEY NOT NULL,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    from_status  TEXT NOT NULL,
    to_status    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    changed_by   TEXT REFERENCES staff (id),
    changed_at   TIMESTAMP NOT NULL
);
CREATE INDEX patient_status_changes_by_patient ON patient_status_changes (patient_id, changed_at);

CREATE TABLE patient_photos (
    id           TEXT PRIMARY KEY NOT NULL,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    mime         TEXT NOT NULL,
    data         BYTEA NOT NULL,
    uploaded_by  TEXT NOT NULL REFERENCES staff (id),
    uploaded_at  TIMESTAMP NOT NULL
);
CREATE INDEX patient_photos_by_patient ON patient_photos (patient_id, uploaded_at);

CREATE TABLE orders (
    id                TEXT PRIMARY KEY NOT NULL,
    patient_id        TEXT NOT NULL REFERENCES patients (id),
    daily_deci_mg     INTEGER NOT NULL,
    portion1_deci_mg  INTEGER,
    portion2_deci_mg  INTEGER,
    start_date        DATE NOT NULL,
    end_date          DATE,
    phase             TEXT NOT NULL,
    reason            TEXT NOT NULL,
    override_reason   TEXT,
    transfer_from     TEXT,
    last_dose_on      DATE,
    starts_episode    BOOLEAN NOT NULL,
    needs_approval    BOOLEAN NOT NULL,
    prescriber_id     TEXT NOT NULL REFERENCES staff (id),
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX orders_by_patient ON orders (patient_id, created_at);

-- An order is in force once it has an activation: at once, or when a second doctor approves.
CREATE TABLE order_activations (
    order_id        TEXT PRIMARY KEY NOT NULL REFERENCES orders (id),
    patient_id      TEXT NOT NULL REFERENCES patients (id),
    effective_from  DATE NOT NULL,
    activated_at    TIMESTAMP NOT NULL,
    approved_by     TEXT REFERENCES staff (id)
);
CREATE INDEX order_activations_by_patient ON order_activations (patient_id, activated_at);

CREATE TABLE reviews (
    id                TEXT PRIMARY KEY NOT NULL,
    patient_id        TEXT NOT NULL REFERENCES patients (id),
    review_date       DATE NOT NULL,
    approved_deci_mg  INTEGER NOT NULL,
    note              TEXT NOT NULL,
    doctor_id         TEXT NOT NULL REFERENCES staff (id),
    created_at        TIMESTAMP NOT NULL,
    UNIQUE (patient_id, review_date)
);

CREATE TABLE ecgs (
    id           TEXT PRIMARY KEY NOT NULL,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    taken_on     DATE NOT NULL,
    qtc_ms       INTEGER NOT NULL,
    recorded_by  TEXT NOT NULL REFERENCES staff (id),
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX ecgs_by_patient ON ecgs (patient_id, taken_on);

CREATE TABLE guest_dosing (
    id          TEXT PRIMARY KEY NOT NULL,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    site_id     TEXT NOT NULL REFERENCES sites (id),
    from_date   DATE NOT NULL,
    to_date     DATE NOT NULL,
    reason      TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES staff (id),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX guest_dosing_by_site ON guest_dosing (site_id, to_date);
CREATE INDEX guest_dosing_by_patient ON guest_dosing (patient_id);

CREATE TABLE absences (
    id          TEXT PRIMARY KEY NOT NULL,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    from_date   DATE NOT NULL,
    to_date     DATE NOT NULL,
    reason      TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES staff (id),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX absences_by_patient ON absences (patient_id, to_date);

-- One dose per patient, dose day and portion: `generation` counts the confirmed reversals
-- of that slot when the dose was written, so two racing writers compute the same value
-- and the unique key lets only one in.
CREATE TABLE doses (
    id                  TEXT PRIMARY KEY NOT NULL,
    patient_id          TEXT NOT NULL REFERENCES patients (id),
    site_id             TEXT NOT NULL REFERENCES sites (id),
    dose_day            DATE NOT NULL,
    portion             INTEGER NOT NULL CHECK (portion IN (1, 2)),
    generation          INTEGER NOT NULL,
    deci_mg             INTEGER NOT NULL CHECK (deci_mg > 0),
    given_at            TIMESTAMP NOT NULL,
    nurse_id            TEXT NOT NULL REFERENCES staff (id),
    order_id            TEXT NOT NULL REFERENCES orders (id),
    kind                TEXT NOT NULL CHECK (kind IN ('site', 'home_visit')),
    identity_confirmed  BOOLEAN NOT NULL,
    intoxication_check  TEXT NOT NULL,
    note                TEXT,
    UNIQUE (patient_id, dose_day, portion, generation)
);
CREATE INDEX doses_by_site_day ON doses (site_id, dose_day);
CREATE INDEX doses_by_patient_day ON doses (patient_id, dose_day);

CREATE TABLE dose_reversals (
    id            TEXT PRIMARY KEY NOT NULL,
    dose_id       TEXT NOT NULL UNIQUE REFERENCES doses (id),
    patient_id    TEXT NOT NULL REFERENCES patients (id),
    reason        TEXT NOT NULL,
    requested_by  TEXT NOT NULL REFERENCES staff (id),
    requested_at  TIMESTAMP NOT NULL
);

CREATE TABLE dose_reversal_confirmations (
    reversal_id   TEXT PRIMARY KEY NOT NULL REFERENCES dose_reversals (id),
    dose_id       TEXT NOT NULL UNIQUE REFERENCES doses (id),
    patient_id    TEXT NOT NULL REFERENCES patients (id),
    confirmed_by  TEXT NOT NULL REFERENCES staff (id),
    confirmed_at  TIMESTAMP NOT NULL
);
CREATE INDEX dose_reversal_confirmations_by_patient ON dose_reversal_confirmations (patient_id);

CREATE TABLE withheld_doses (
    id                  TEXT PRIMARY KEY NOT NULL,
    patient_id          TEXT NOT NULL REFERENCES patients (id),
    site_id             TEXT NOT NULL REFERENCES sites (id),
    dose_day            DATE NOT NULL,
    intoxication_check  TEXT NOT NULL,
    nurse_id            TEXT NOT NULL REFERENCES staff (id),
    at                  TIMESTAMP NOT NULL,
    note                TEXT
);
CREATE INDEX withheld_doses_by_patient ON withheld_doses (patient_id, dose_day);

-- Retried writes: the first answer, replayed for the same key and body.
CREATE TABLE idempotency_keys (
    staff_id      TEXT NOT NULL REFERENCES staff (id),
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (staff_id, key)
);

-- Clinical history is append-only: mistakes are reversed by new entries.
CREATE TRIGGER patient_status_changes_append_only BEFORE UPDATE OR DELETE ON patient_status_changes
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER patient_status_changes_no_truncate BEFORE TRUNCATE ON patient_status_changes
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER patient_photos_append_only BEFORE UPDATE OR DELETE ON patient_photos
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER patient_photos_no_truncate BEFORE TRUNCATE ON patient_photos
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER orders_append_only BEFORE UPDATE OR DELETE ON orders
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER orders_no_truncate BEFORE TRUNCATE ON orders
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER order_activations_append_only BEFORE UPDATE OR DELETE ON order_activations
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER order_activations_no_truncate BEFORE TRUNCATE ON order_activations
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER reviews_append_only BEFORE UPDATE OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER reviews_no_truncate BEFORE TRUNCATE ON reviews
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER ecgs_append_only BEFORE UPDATE OR DELETE ON ecgs
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER ecgs_no_truncate BEFORE TRUNCATE ON ecgs
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER doses_append_only BEFORE UPDATE OR DELETE ON doses
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER doses_no_truncate BEFORE TRUNCATE ON doses
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER dose_reversals_append_only BEFORE UPDATE OR DELETE ON dose_reversals
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER dose_reversals_no_truncate BEFORE TRUNCATE ON dose_reversals
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER dose_reversal_confirmations_append_only BEFORE UPDATE OR DELETE ON dose_reversal_confirmations
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER dose_reversal_confirmations_no_truncate BEFORE TRUNCATE ON dose_reversal_confirmations
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER withheld_doses_append_only BEFORE UPDATE OR DELETE ON withheld_doses
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER withheld_doses_no_truncate BEFORE TRUNCATE ON withheld_doses
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
