-- A day's doses together: a site's queue reads today's and yesterday's doses of its patients
-- as one short range of this index instead of one descent per patient into the unique key
-- (patient_id, dose_day, ...), whose cost grows with the years of history under it. New
-- entries go to the end (today), so a dose writes to the same few hot pages.
CREATE INDEX doses_by_day ON doses (dose_day, patient_id);
