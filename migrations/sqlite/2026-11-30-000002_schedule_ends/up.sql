-- A home-visit schedule ended before its `to` (the patient can come to the window again,
-- moved away, ...): no visit is planned from it after `last_day`. One end per schedule;
-- append-only like the schedule itself.
CREATE TABLE home_visit_schedule_ends (
    schedule_id TEXT PRIMARY KEY NOT NULL REFERENCES home_visit_schedules (id),
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    last_day    DATE NOT NULL,
    reason      TEXT NOT NULL,
    ended_by    TEXT NOT NULL REFERENCES staff (id),
    ended_at    TIMESTAMP NOT NULL
);

CREATE TRIGGER home_visit_schedule_ends_no_update BEFORE UPDATE ON home_visit_schedule_ends
BEGIN SELECT RAISE(ABORT, 'home_visit_schedule_ends is append-only'); END;
CREATE TRIGGER home_visit_schedule_ends_no_delete BEFORE DELETE ON home_visit_schedule_ends
BEGIN SELECT RAISE(ABORT, 'home_visit_schedule_ends is append-only'); END;
CREATE TRIGGER home_visit_schedule_ends_no_replace BEFORE INSERT ON home_visit_schedule_ends
WHEN EXISTS (SELECT 1 FROM home_visit_schedule_ends WHERE schedule_id = NEW.schedule_id)
BEGIN SELECT RAISE(ABORT, 'home_visit_schedule_ends: a row with this key already exists (append-only)'); END;
