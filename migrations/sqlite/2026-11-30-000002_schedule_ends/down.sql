DROP TABLE home_visit_schedule_ends;
