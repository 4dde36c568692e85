-- No index of the doses leads with the patient any more: the slot's unique key is (day,
-- patient, portion, generation). Every index that led with the patient had, once the table
-- held years of history, one page per patient, and every dose wrote its patient's page: a
-- different page per dose, where on a young database the doses written together share a
-- few. Measured with a year of daily doses for 4,000 patients, that page alone made a dose
-- a fifth slower; with the day first, today's doses all go to the same few pages at the end.
-- A patient's history is read day by day through this key (see db/doses.rs), at a cost
-- that grows with the days asked for, not with the years stored. `doses_by_day` (day,
-- patient) is the new key's prefix and goes. Rebuilt as SQLite's ALTER TABLE guide
-- prescribes: foreign keys off, which cannot change inside a transaction, so this file
-- opens its own (metadata.toml).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE doses_day_first (
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
    UNIQUE (dose_day, patient_id, portion, generation)
);
INSERT INTO doses_day_first (id, patient_id, site_id, dose_day, portion, generation, deci_mg, given_at,
                             nurse_id, order_id, kind, identity_confirmed, intoxication_check, note)
SELECT id, patient_id, site_id, dose_day, portion, generation, deci_mg, given_at,
       nurse_id, order_id, kind, identity_confirmed, intoxication_check, note
FROM doses ORDER BY id;
DROP TABLE doses;
ALTER TABLE doses_day_first RENAME TO doses;
CREATE INDEX doses_by_site_day ON doses (site_id, dose_day);
CREATE TRIGGER doses_no_update BEFORE UPDATE ON doses
BEGIN SELECT RAISE(ABORT, 'doses is append-only'); END;
CREATE TRIGGER doses_no_delete BEFORE DELETE ON doses
BEGIN SELECT RAISE(ABORT, 'doses is append-only'); END;
CREATE TRIGGER doses_no_replace BEFORE INSERT ON doses
WHEN EXISTS (SELECT 1 FROM doses WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'doses: a row with this key already exists (append-only)'); END;
CREATE TRIGGER doses_intoxication_check_check_insert BEFORE INSERT ON doses
WHEN NEW.intoxication_check NOT IN ('clear', 'sedated', 'alcohol')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: doses.intoxication_check'); END;
COMMIT;
PRAGMA foreign_keys = ON;
