CREATE INDEX doses_by_patient_day ON doses (patient_id, dose_day);
