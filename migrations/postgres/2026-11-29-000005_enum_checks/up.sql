-- Every column that holds one of a domain enum's names refuses any other value.

ALTER TABLE patients ADD CONSTRAINT patients_status_check CHECK (status IN ('active', 'suspended', 'discharged', 'deceased', 'dropped_out'));
ALTER TABLE patient_status_changes ADD CONSTRAINT patient_status_changes_from_status_check CHECK (from_status IN ('active', 'suspended', 'discharged', 'deceased', 'dropped_out'));
ALTER TABLE patient_status_changes ADD CONSTRAINT patient_status_changes_to_status_check CHECK (to_status IN ('active', 'suspended', 'discharged', 'deceased', 'dropped_out'));
ALTER TABLE orders ADD CONSTRAINT orders_phase_check CHECK (phase IN ('induction', 'maintenance', 'taper', 'transfer'));
ALTER TABLE absences ADD CONSTRAINT absences_reason_check CHECK (reason IN ('hospital', 'detention', 'other_clinic', 'other'));
ALTER TABLE doses ADD CONSTRAINT doses_intoxication_check_check CHECK (intoxication_check IN ('clear', 'sedated', 'alcohol'));
ALTER TABLE withheld_doses ADD CONSTRAINT withheld_doses_intoxication_check_check CHECK (intoxication_check IN ('clear', 'sedated', 'alcohol'));
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('missed_doses', 'dropout', 'positive_test', 'test_refused', 'rehab_report_overdue', 'serious_breach'));
ALTER TABLE disclosures ADD CONSTRAINT disclosures_basis_check CHECK (basis IN ('rehab_case', 'consent'));
ALTER TABLE sweep_runs ADD CONSTRAINT sweep_runs_cause_check CHECK (cause IN ('startup', 'nightly', 'manual', 'demo', 'bench'));
