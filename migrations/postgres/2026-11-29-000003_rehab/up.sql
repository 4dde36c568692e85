-- Attendance alerts, drug tests, the community detox/rehab link and disclosures.
-- All append-only.

-- Community detox / rehab cases (社区戒毒 / 社区康复). A case is never edited: its report,
-- evasions, detention and release are events; its end date follows from the report date.
CREATE TABLE rehab_cases (
    id             TEXT PRIMARY KEY NOT NULL,
    case_ref       TEXT UNIQUE,
    patient_id     TEXT NOT NULL REFERENCES patients (id),
    kind           TEXT NOT NULL CHECK (kind IN ('community_detox', 'community_rehab')),
    decision_date  DATE NOT NULL,
    reported_on    DATE,
    township       TEXT NOT NULL,
    worker_id      TEXT NOT NULL REFERENCES staff (id),
    created_by     TEXT NOT NULL REFERENCES staff (id),
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX rehab_cases_by_township ON rehab_cases (township);
CREATE INDEX rehab_cases_by_patient ON rehab_cases (patient_id);

CREATE TABLE rehab_case_events (
    id           TEXT PRIMARY KEY NOT NULL,
    case_id      TEXT NOT NULL REFERENCES rehab_cases (id),
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    kind         TEXT NOT NULL CHECK (kind IN ('reported', 'evasion', 'detention', 'release')),
    event_date   DATE NOT NULL,
    note         TEXT,
    recorded_by  TEXT NOT NULL REFERENCES staff (id),
    recorded_at  TIMESTAMP NOT NULL
);
CREATE INDEX rehab_case_events_by_case ON rehab_case_events (case_id, event_date);

-- Drug tests: the sample, and its result once known (a pending test has none yet).
CREATE TABLE drug_tests (
    id            TEXT PRIMARY KEY NOT NULL,
    patient_id    TEXT NOT NULL REFERENCES patients (id),
    kind          TEXT NOT NULL CHECK (kind IN ('urine', 'hair')),
    sampled_on    DATE NOT NULL,
    selection_id  TEXT,
    recorded_by   TEXT NOT NULL REFERENCES staff (id),
    recorded_at   TIMESTAMP NOT NULL
);
CREATE INDEX drug_tests_by_patient ON drug_tests (patient_id, kind, sampled_on);

CREATE TABLE test_results (
    test_id      TEXT PRIMARY KEY NOT NULL REFERENCES drug_tests (id),
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    result       TEXT NOT NULL CHECK (result IN ('negative', 'positive', 'refused')),
    recorded_by  TEXT NOT NULL REFERENCES staff (id),
    recorded_at  TIMESTAMP NOT NULL
);
CREATE INDEX test_results_by_patient ON test_results (patient_id);

-- A positive hair test must be reported to the police: who notified, when, which unit.
CREATE TABLE police_notifications (
    test_id      TEXT PRIMARY KEY NOT NULL REFERENCES drug_tests (id),
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    notified_at  TIMESTAMP NOT NULL,
    police_unit  TEXT NOT NULL,
    note         TEXT,
    notified_by  TEXT NOT NULL REFERENCES staff (id),
    recorded_at  TIMESTAMP NOT NULL
);

-- The day's random urine-test selection at a site, recorded with its seed so that anyone
-- can re-draw it from the same candidates.
CREATE TABLE urine_selections (
    id              TEXT PRIMARY KEY NOT NULL,
    site_id         TEXT NOT NULL REFERENCES sites (id),
    selection_date  DATE NOT NULL,
    seed            TEXT NOT NULL,
    wanted          INTEGER NOT NULL,
    candidates      INTEGER NOT NULL,
    patient_ids     TEXT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES staff (id),
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (site_id, selection_date)
);

-- Alerts: one per episode, guaranteed by the key. Acknowledgement and resolution are
-- rows of their own, so an alert is never edited.
CREATE TABLE alerts (
    id           TEXT PRIMARY KEY NOT NULL,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    kind         TEXT NOT NULL,
    episode_key  TEXT NOT NULL,
    case_id      TEXT REFERENCES rehab_cases (id),
    message      TEXT NOT NULL,
    details      TEXT NOT NULL,
    opened_at    TIMESTAMP NOT NULL,
    UNIQUE (patient_id, kind, episode_key)
);
CREATE INDEX alerts_by_opened ON alerts (opened_at);

CREATE TABLE alert_acknowledgements (
    alert_id   TEXT PRIMARY KEY NOT NULL REFERENCES alerts (id),
    note       TEXT NOT NULL,
    staff_id   TEXT NOT NULL REFERENCES staff (id),
    at         TIMESTAMP NOT NULL
);

CREATE TABLE alert_resolutions (
    alert_id   TEXT PRIMARY KEY NOT NULL REFERENCES alerts (id),
    reason     TEXT NOT NULL,
    staff_id   TEXT REFERENCES staff (id),
    at         TIMESTAMP NOT NULL
);

-- Every view of a patient by a rehab worker: who, whom, when, on what basis.
CREATE TABLE disclosures (
    id          TEXT PRIMARY KEY NOT NULL,
    staff_id    TEXT NOT NULL REFERENCES staff (id),
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    at          TIMESTAMP NOT NULL,
    basis       TEXT NOT NULL,
    case_id     TEXT REFERENCES rehab_cases (id),
    what        TEXT NOT NULL
);
CREATE INDEX disclosures_by_at ON disclosures (at);
CREATE INDEX disclosures_by_patient ON disclosures (patient_id, at);

CREATE TABLE sweep_runs (
    id           TEXT PRIMARY KEY NOT NULL,
    cause        TEXT NOT NULL,
    sweep_date   DATE NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP NOT NULL,
    patients     INTEGER NOT NULL,
    opened       INTEGER NOT NULL,
    resolved     INTEGER NOT NULL,
    dropouts     INTEGER NOT NULL,
    due_tests    INTEGER NOT NULL
);

CREATE TRIGGER rehab_cases_append_only BEFORE UPDATE OR DELETE ON rehab_cases
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER rehab_cases_no_truncate BEFORE TRUNCATE ON rehab_cases
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER rehab_case_events_append_only BEFORE UPDATE OR DELETE ON rehab_case_events
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER rehab_case_events_no_truncate BEFORE TRUNCATE ON rehab_case_events
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER drug_tests_append_only BEFORE UPDATE OR DELETE ON drug_tests
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER drug_tests_no_truncate BEFORE TRUNCATE ON drug_tests
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER test_results_append_only BEFORE UPDATE OR DELETE ON test_results
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER test_results_no_truncate BEFORE TRUNCATE ON test_results
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER police_notifications_append_only BEFORE UPDATE OR DELETE ON police_notifications
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER police_notifications_no_truncate BEFORE TRUNCATE ON police_notifications
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER urine_selections_append_only BEFORE UPDATE OR DELETE ON urine_selections
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER urine_selections_no_truncate BEFORE TRUNCATE ON urine_selections
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER alerts_append_only BEFORE UPDATE OR DELETE ON alerts
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER alerts_no_truncate BEFORE TRUNCATE ON alerts
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER alert_acknowledgements_append_only BEFORE UPDATE OR DELETE ON alert_acknowledgements
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER alert_acknowledgements_no_truncate BEFORE TRUNCATE ON alert_acknowledgements
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER alert_resolutions_append_only BEFORE UPDATE OR DELETE ON alert_resolutions
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER alert_resolutions_no_truncate BEFORE TRUNCATE ON alert_resolutions
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER disclosures_no_truncate BEFORE TRUNCATE ON disclosures
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER sweep_runs_append_only BEFORE UPDATE OR DELETE ON sweep_runs
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER sweep_runs_no_truncate BEFORE TRUNCATE ON sweep_runs
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
