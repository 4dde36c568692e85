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

CREATE TRIGGER offline_doses_no_update BEFORE UPDATE ON offline_doses
BEGIN SELECT RAISE(ABORT, 'offline_doses is append-only'); END;
CREATE TRIGGER offline_doses_no_delete BEFORE DELETE ON offline_doses
BEGIN SELECT RAISE(ABORT, 'offline_doses is append-only'); END;
CREATE TRIGGER offline_doses_no_replace BEFORE INSERT ON offline_doses
WHEN EXISTS (SELECT 1 FROM offline_doses WHERE dose_id = NEW.dose_id)
BEGIN SELECT RAISE(ABORT, 'offline_doses: a row with this key already exists (append-only)'); END;
CREATE TRIGGER offline_incidents_no_update BEFORE UPDATE ON offline_incidents
BEGIN SELECT RAISE(ABORT, 'offline_incidents is append-only'); END;
CREATE TRIGGER offline_incidents_no_delete BEFORE DELETE ON offline_incidents
BEGIN SELECT RAISE(ABORT, 'offline_incidents is append-only'); END;
CREATE TRIGGER offline_incidents_no_replace BEFORE INSERT ON offline_incidents
WHEN EXISTS (SELECT 1 FROM offline_incidents WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'offline_incidents: a row with this key already exists (append-only)'); END;
