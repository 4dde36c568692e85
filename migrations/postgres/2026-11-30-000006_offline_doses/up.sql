-- Doses given at a window that had lost the line, uploaded when it came back: the terminal's
-- clock reading and the time the server received them, beside the dose row itself (whose
-- row digest the audit chain holds). Append-only.
CREATE TABLE offline_doses (
    dose_id             TEXT PRIMARY KEY NOT NULL REFERENCES doses (id),
    terminal_given_at   TIMESTAMP NOT NULL,
    received_at         TIMESTAMP NOT NULL
);

-- An offline dose the server could not record (the patient was already dosed, another site
-- held the day, the day had ended, a rule refused it): never a second dose, an incident for
-- a doctor. Append-only.
CREATE TABLE offline_incidents (
    id                  TEXT PRIMARY KEY NOT NULL,
    patient_id          TEXT NOT NULL REFERENCES patients (id),
    site_id             TEXT NOT NULL REFERENCES sites (id),
    nurse_id            TEXT NOT NULL REFERENCES staff (id),
    dose_day            DATE NOT NULL,
    deci_mg             INTEGER NOT NULL CHECK (deci_mg > 0),
    terminal_given_at   TIMESTAMP NOT NULL,
    received_at         TIMESTAMP NOT NULL,
    reason              TEXT NOT NULL,
    details             TEXT NOT NULL
);
CREATE INDEX offline_incidents_by_day ON offline_incidents (dose_day, site_id);
CREATE INDEX offline_incidents_by_patient ON offline_incidents (patient_id);

CREATE TRIGGER offline_doses_append_only BEFORE UPDATE OR DELETE ON offline_doses
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER offline_doses_no_truncate BEFORE TRUNCATE ON offline_doses
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER offline_incidents_append_only BEFORE UPDATE OR DELETE ON offline_incidents
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER offline_incidents_no_truncate BEFORE TRUNCATE ON offline_incidents
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
