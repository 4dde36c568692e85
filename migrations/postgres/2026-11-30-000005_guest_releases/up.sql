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

CREATE TRIGGER guest_dosing_releases_append_only BEFORE UPDATE OR DELETE ON guest_dosing_releases
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER guest_dosing_releases_no_truncate BEFORE TRUNCATE ON guest_dosing_releases
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
