-- A same-day move of a patient's dose day to a guest site: the site that held the day
-- confirms that it lets the day go (it may be dosing offline from its day sheet). One
-- release per arrangement (the key); append-only.
CREATE TABLE guest_dosing_releases (
    arrangement_id  TEXT PRIMARY KEY NOT NULL REFERENCES guest_dosing (id),
    patient_id      TEXT NOT NULL REFERENCES patients (id),
    site_id         TEXT NOT NULL REFERENCES sites (id),
    released_by     TEXT NOT NULL REFERENCES staff (id),
    released_at     TIMESTAMP NOT NULL
);
CREATE INDEX guest_dosing_releases_by_patient ON guest_dosing_releases (patient_id);

CREATE TRIGGER guest_dosing_releases_no_update BEFORE UPDATE ON guest_dosing_releases
BEGIN SELECT RAISE(ABORT, 'guest_dosing_releases is append-only'); END;
CREATE TRIGGER guest_dosing_releases_no_delete BEFORE DELETE ON guest_dosing_releases
BEGIN SELECT RAISE(ABORT, 'guest_dosing_releases is append-only'); END;
CREATE TRIGGER guest_dosing_releases_no_replace BEFORE INSERT ON guest_dosing_releases
WHEN EXISTS (SELECT 1 FROM guest_dosing_releases WHERE arrangement_id = NEW.arrangement_id)
BEGIN SELECT RAISE(ABORT, 'guest_dosing_releases: a row with this key already exists (append-only)'); END;
