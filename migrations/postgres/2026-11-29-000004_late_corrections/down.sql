DROP TABLE late_correction_confirmations;
DROP TABLE late_corrections;
