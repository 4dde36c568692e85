-- The unique key (patient_id, dose_day, portion, generation) already serves every lookup by
-- patient and day; a second index on (patient_id, dose_day) only doubled the pages each dose
-- writes, one per patient scattered over the table once it holds years of history.
DROP INDEX doses_by_patient_day;
