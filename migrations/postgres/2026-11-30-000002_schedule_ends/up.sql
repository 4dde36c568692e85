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

CREATE TRIGGER home_visit_schedule_ends_append_only BEFORE UPDATE OR DELETE ON home_visit_schedule_ends
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER home_visit_schedule_ends_no_truncate BEFORE TRUNCATE ON home_visit_schedule_ends
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
