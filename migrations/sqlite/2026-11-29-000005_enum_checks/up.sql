-- Every column that holds one of a domain enum's names refuses any other value.
-- SQLite cannot add a CHECK to an existing column, so these triggers do its work
-- (BEFORE INSERT, and BEFORE UPDATE where the column may change).

CREATE TRIGGER patients_status_check_insert BEFORE INSERT ON patients
WHEN NEW.status NOT IN ('active', 'suspended', 'discharged', 'deceased', 'dropped_out')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: patients.status'); END;
CREATE TRIGGER patients_status_check_update BEFORE UPDATE OF status ON patients
WHEN NEW.status NOT IN ('active', 'suspended', 'discharged', 'deceased', 'dropped_out')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: patients.status'); END;
CREATE TRIGGER patient_status_changes_from_status_check_insert BEFORE INSERT ON patient_status_changes
WHEN NEW.from_status NOT IN ('active', 'suspended', 'discharged', 'deceased', 'dropped_out')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: patient_status_changes.from_status'); END;
CREATE TRIGGER patient_status_changes_to_status_check_insert BEFORE INSERT ON patient_status_changes
WHEN NEW.to_status NOT IN ('active', 'suspended', 'discharged', 'deceased', 'dropped_out')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: patient_status_changes.to_status'); END;
CREATE TRIGGER orders_phase_check_insert BEFORE INSERT ON orders
WHEN NEW.phase NOT IN ('induction', 'maintenance', 'taper', 'transfer')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: orders.phase'); END;
CREATE TRIGGER absences_reason_check_insert BEFORE INSERT ON absences
WHEN NEW.reason NOT IN ('hospital', 'detention', 'other_clinic', 'other')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: absences.reason'); END;
CREATE TRIGGER absences_reason_check_update BEFORE UPDATE OF reason ON absences
WHEN NEW.reason NOT IN ('hospital', 'detention', 'other_clinic', 'other')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: absences.reason'); END;
CREATE TRIGGER doses_intoxication_check_check_insert BEFORE INSERT ON doses
WHEN NEW.intoxication_check NOT IN ('clear', 'sedated', 'alcohol')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: doses.intoxication_check'); END;
CREATE TRIGGER withheld_doses_intoxication_check_check_insert BEFORE INSERT ON withheld_doses
WHEN NEW.intoxication_check NOT IN ('clear', 'sedated', 'alcohol')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: withheld_doses.intoxication_check'); END;
CREATE TRIGGER alerts_kind_check_insert BEFORE INSERT ON alerts
WHEN NEW.kind NOT IN ('missed_doses', 'dropout', 'positive_test', 'test_refused', 'rehab_report_overdue', 'serious_breach')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: alerts.kind'); END;
CREATE TRIGGER disclosures_basis_check_insert BEFORE INSERT ON disclosures
WHEN NEW.basis NOT IN ('rehab_case', 'consent')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: disclosures.basis'); END;
CREATE TRIGGER sweep_runs_cause_check_insert BEFORE INSERT ON sweep_runs
WHEN NEW.cause NOT IN ('startup', 'nightly', 'manual', 'demo', 'bench')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: sweep_runs.cause'); END;
