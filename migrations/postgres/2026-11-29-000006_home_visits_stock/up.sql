-- Home-visit deliveries and the controlled-substance ledger (专用账册): products, the
-- sites' dispensing product, authorizations, schedules, the run sheet and its custody steps,
-- typed ledger entries with their confirmations, and day closes. All append-only: mistakes
-- are reversed by new rows.

-- Products: methadone oral solution with its concentration (whole mg per mL dividing 10,
-- so that every dose is a whole number of hundredths of a mL).
CREATE TABLE products (
    id                       TEXT PRIMARY KEY NOT NULL,
    name                     TEXT NOT NULL UNIQUE,
    concentration_mg_per_ml  INTEGER NOT NULL CHECK (concentration_mg_per_ml IN (1, 2, 5, 10)),
    created_by               TEXT NOT NULL REFERENCES staff (id),
    created_at               TIMESTAMP NOT NULL
);

-- Which product a site dispenses: the latest row for the site.
CREATE TABLE site_products (
    id          TEXT PRIMARY KEY NOT NULL,
    site_id     TEXT NOT NULL REFERENCES sites (id),
    product_id  TEXT NOT NULL REFERENCES products (id),
    set_by      TEXT NOT NULL REFERENCES staff (id),
    set_at      TIMESTAMP NOT NULL
);
CREATE INDEX site_products_by_site ON site_products (site_id, set_at);

CREATE TABLE home_visit_authorizations (
    id          TEXT PRIMARY KEY NOT NULL,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    reason      TEXT NOT NULL,
    valid_from  DATE NOT NULL,
    valid_to    DATE NOT NULL CHECK (valid_to >= valid_from),
    doctor_id   TEXT NOT NULL REFERENCES staff (id),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX home_visit_authorizations_by_patient ON home_visit_authorizations (patient_id);

-- Recurring schedules: weekdays as text ("1,3,5"; 1 = Monday).
CREATE TABLE home_visit_schedules (
    id          TEXT PRIMARY KEY NOT NULL,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    site_id     TEXT NOT NULL REFERENCES sites (id),
    weekdays    TEXT NOT NULL,
    from_date   DATE NOT NULL,
    to_date     DATE,
    position    INTEGER NOT NULL,
    created_by  TEXT NOT NULL REFERENCES staff (id),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX home_visit_schedules_by_site ON home_visit_schedules (site_id);

-- The run sheet: one visit per patient and day, materialized once from the schedules.
CREATE TABLE home_visits (
    id           TEXT PRIMARY KEY NOT NULL,
    schedule_id  TEXT NOT NULL REFERENCES home_visit_schedules (id),
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    site_id      TEXT NOT NULL REFERENCES sites (id),
    visit_day    DATE NOT NULL,
    position     INTEGER NOT NULL,
    planned_at   TIMESTAMP NOT NULL,
    UNIQUE (patient_id, visit_day)
);
CREATE INDEX home_visits_by_site_day ON home_visits (site_id, visit_day);

-- The custody chain of a visit: each step at most once.
CREATE TABLE home_visit_steps (
    id           TEXT PRIMARY KEY NOT NULL,
    visit_id     TEXT NOT NULL REFERENCES home_visits (id),
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    site_id      TEXT NOT NULL REFERENCES sites (id),
    visit_day    DATE NOT NULL,
    step         TEXT NOT NULL,
    outcome      TEXT,
    deci_mg      INTEGER,
    portion      INTEGER,
    product_id   TEXT REFERENCES products (id),
    centi_ml     INTEGER,
    observed_at  TIMESTAMP,
    dose_id      TEXT REFERENCES doses (id),
    note         TEXT,
    staff_id     TEXT NOT NULL REFERENCES staff (id),
    at           TIMESTAMP NOT NULL,
    UNIQUE (visit_id, step)
);
CREATE INDEX home_visit_steps_by_site_day ON home_visit_steps (site_id, visit_day);

-- Typed ledger entries; centi_ml is the signed change of the site's balance in hundredths
-- of a mL. An entry counts once confirmed by a second person.
CREATE TABLE stock_entries (
    id                   TEXT PRIMARY KEY NOT NULL,
    site_id              TEXT NOT NULL REFERENCES sites (id),
    product_id           TEXT NOT NULL REFERENCES products (id),
    kind                 TEXT NOT NULL,
    centi_ml             INTEGER NOT NULL,
    lot                  TEXT,
    supplier             TEXT,
    counterpart_site_id  TEXT REFERENCES sites (id),
    transfer_id          TEXT REFERENCES stock_entries (id),
    reverses_id          TEXT REFERENCES stock_entries (id),
    reason               TEXT NOT NULL,
    entered_by           TEXT NOT NULL REFERENCES staff (id),
    entered_at           TIMESTAMP NOT NULL
);
CREATE INDEX stock_entries_by_site ON stock_entries (site_id, product_id, entered_at);
CREATE INDEX stock_entries_by_counterpart ON stock_entries (counterpart_site_id);

-- A transfer is received once and an entry reversed once: the keys say so.
CREATE TABLE stock_entry_confirmations (
    entry_id      TEXT PRIMARY KEY NOT NULL REFERENCES stock_entries (id),
    site_id       TEXT NOT NULL REFERENCES sites (id),
    transfer_id   TEXT UNIQUE REFERENCES stock_entries (id),
    reverses_id   TEXT UNIQUE REFERENCES stock_entries (id),
    confirmed_by  TEXT NOT NULL REFERENCES staff (id),
    confirmed_at  TIMESTAMP NOT NULL
);
CREATE INDEX stock_entry_confirmations_by_site ON stock_entry_confirmations (site_id, confirmed_at);

CREATE TABLE day_closes (
    id             TEXT PRIMARY KEY NOT NULL,
    site_id        TEXT NOT NULL REFERENCES sites (id),
    product_id     TEXT NOT NULL REFERENCES products (id),
    close_day      DATE NOT NULL,
    counted_cml    INTEGER NOT NULL,
    expected_cml   INTEGER NOT NULL,
    incident_note  TEXT,
    requested_by   TEXT NOT NULL REFERENCES staff (id),
    requested_at   TIMESTAMP NOT NULL
);
CREATE INDEX day_closes_by_site ON day_closes (site_id, close_day);

-- A day is closed once per site and product.
CREATE TABLE day_close_confirmations (
    close_id      TEXT PRIMARY KEY NOT NULL REFERENCES day_closes (id),
    site_id       TEXT NOT NULL REFERENCES sites (id),
    product_id    TEXT NOT NULL REFERENCES products (id),
    close_day     DATE NOT NULL,
    counted_cml   INTEGER NOT NULL,
    expected_cml  INTEGER NOT NULL,
    confirmed_by  TEXT NOT NULL REFERENCES staff (id),
    confirmed_at  TIMESTAMP NOT NULL,
    UNIQUE (site_id, product_id, close_day)
);

-- Append-only: no update, no delete, no truncate.
CREATE TRIGGER products_append_only BEFORE UPDATE OR DELETE ON products
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER products_no_truncate BEFORE TRUNCATE ON products
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER site_products_append_only BEFORE UPDATE OR DELETE ON site_products
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER site_products_no_truncate BEFORE TRUNCATE ON site_products
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER home_visit_authorizations_append_only BEFORE UPDATE OR DELETE ON home_visit_authorizations
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER home_visit_authorizations_no_truncate BEFORE TRUNCATE ON home_visit_authorizations
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER home_visit_schedules_append_only BEFORE UPDATE OR DELETE ON home_visit_schedules
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER home_visit_schedules_no_truncate BEFORE TRUNCATE ON home_visit_schedules
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER home_visits_append_only BEFORE UPDATE OR DELETE ON home_visits
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER home_visits_no_truncate BEFORE TRUNCATE ON home_visits
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER home_visit_steps_append_only BEFORE UPDATE OR DELETE ON home_visit_steps
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER home_visit_steps_no_truncate BEFORE TRUNCATE ON home_visit_steps
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER stock_entries_append_only BEFORE UPDATE OR DELETE ON stock_entries
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER stock_entries_no_truncate BEFORE TRUNCATE ON stock_entries
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER stock_entry_confirmations_append_only BEFORE UPDATE OR DELETE ON stock_entry_confirmations
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER stock_entry_confirmations_no_truncate BEFORE TRUNCATE ON stock_entry_confirmations
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER day_closes_append_only BEFORE UPDATE OR DELETE ON day_closes
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER day_closes_no_truncate BEFORE TRUNCATE ON day_closes
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER day_close_confirmations_append_only BEFORE UPDATE OR DELETE ON day_close_confirmations
FOR EACH ROW EXECUTE FUNCTION mmt_reject_change();
CREATE TRIGGER day_close_confirmations_no_truncate BEFORE TRUNCATE ON day_close_confirmations
FOR EACH STATEMENT EXECUTE FUNCTION mmt_reject_change();

-- Enum columns refuse any other value.
ALTER TABLE home_visit_steps ADD CONSTRAINT home_visit_steps_step_check CHECK (step IN ('checkout', 'checkout_confirm', 'arrive', 'outcome', 'return', 'return_confirm'));
ALTER TABLE home_visit_steps ADD CONSTRAINT home_visit_steps_outcome_check CHECK (outcome IN ('delivered', 'not_home', 'refused'));
ALTER TABLE stock_entries ADD CONSTRAINT stock_entries_kind_check CHECK (kind IN ('receipt', 'transfer_out', 'transfer_in', 'waste', 'adjustment', 'reversal'));
