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

-- Append-only: no update, no delete, no replace.
CREATE TRIGGER products_no_update BEFORE UPDATE ON products
BEGIN SELECT RAISE(ABORT, 'products is append-only'); END;
CREATE TRIGGER products_no_delete BEFORE DELETE ON products
BEGIN SELECT RAISE(ABORT, 'products is append-only'); END;
CREATE TRIGGER products_no_replace BEFORE INSERT ON products
WHEN EXISTS (SELECT 1 FROM products WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'products: a row with this key already exists (append-only)'); END;
CREATE TRIGGER site_products_no_update BEFORE UPDATE ON site_products
BEGIN SELECT RAISE(ABORT, 'site_products is append-only'); END;
CREATE TRIGGER site_products_no_delete BEFORE DELETE ON site_products
BEGIN SELECT RAISE(ABORT, 'site_products is append-only'); END;
CREATE TRIGGER site_products_no_replace BEFORE INSERT ON site_products
WHEN EXISTS (SELECT 1 FROM site_products WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'site_products: a row with this key already exists (append-only)'); END;
CREATE TRIGGER home_visit_authorizations_no_update BEFORE UPDATE ON home_visit_authorizations
BEGIN SELECT RAISE(ABORT, 'home_visit_authorizations is append-only'); END;
CREATE TRIGGER home_visit_authorizations_no_delete BEFORE DELETE ON home_visit_authorizations
BEGIN SELECT RAISE(ABORT, 'home_visit_authorizations is append-only'); END;
CREATE TRIGGER home_visit_authorizations_no_replace BEFORE INSERT ON home_visit_authorizations
WHEN EXISTS (SELECT 1 FROM home_visit_authorizations WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'home_visit_authorizations: a row with this key already exists (append-only)'); END;
CREATE TRIGGER home_visit_schedules_no_update BEFORE UPDATE ON home_visit_schedules
BEGIN SELECT RAISE(ABORT, 'home_visit_schedules is append-only'); END;
CREATE TRIGGER home_visit_schedules_no_delete BEFORE DELETE ON home_visit_schedules
BEGIN SELECT RAISE(ABORT, 'home_visit_schedules is append-only'); END;
CREATE TRIGGER home_visit_schedules_no_replace BEFORE INSERT ON home_visit_schedules
WHEN EXISTS (SELECT 1 FROM home_visit_schedules WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'home_visit_schedules: a row with this key already exists (append-only)'); END;
CREATE TRIGGER home_visits_no_update BEFORE UPDATE ON home_visits
BEGIN SELECT RAISE(ABORT, 'home_visits is append-only'); END;
CREATE TRIGGER home_visits_no_delete BEFORE DELETE ON home_visits
BEGIN SELECT RAISE(ABORT, 'home_visits is append-only'); END;
CREATE TRIGGER home_visits_no_replace BEFORE INSERT ON home_visits
WHEN EXISTS (SELECT 1 FROM home_visits WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'home_visits: a row with this key already exists (append-only)'); END;
CREATE TRIGGER home_visit_steps_no_update BEFORE UPDATE ON home_visit_steps
BEGIN SELECT RAISE(ABORT, 'home_visit_steps is append-only'); END;
CREATE TRIGGER home_visit_steps_no_delete BEFORE DELETE ON home_visit_steps
BEGIN SELECT RAISE(ABORT, 'home_visit_steps is append-only'); END;
CREATE TRIGGER home_visit_steps_no_replace BEFORE INSERT ON home_visit_steps
WHEN EXISTS (SELECT 1 FROM home_visit_steps WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'home_visit_steps: a row with this key already exists (append-only)'); END;
CREATE TRIGGER stock_entries_no_update BEFORE UPDATE ON stock_entries
BEGIN SELECT RAISE(ABORT, 'stock_entries is append-only'); END;
CREATE TRIGGER stock_entries_no_delete BEFORE DELETE ON stock_entries
BEGIN SELECT RAISE(ABORT, 'stock_entries is append-only'); END;
CREATE TRIGGER stock_entries_no_replace BEFORE INSERT ON stock_entries
WHEN EXISTS (SELECT 1 FROM stock_entries WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'stock_entries: a row with this key already exists (append-only)'); END;
CREATE TRIGGER stock_entry_confirmations_no_update BEFORE UPDATE ON stock_entry_confirmations
BEGIN SELECT RAISE(ABORT, 'stock_entry_confirmations is append-only'); END;
CREATE TRIGGER stock_entry_confirmations_no_delete BEFORE DELETE ON stock_entry_confirmations
BEGIN SELECT RAISE(ABORT, 'stock_entry_confirmations is append-only'); END;
CREATE TRIGGER stock_entry_confirmations_no_replace BEFORE INSERT ON stock_entry_confirmations
WHEN EXISTS (SELECT 1 FROM stock_entry_confirmations WHERE entry_id = NEW.entry_id)
BEGIN SELECT RAISE(ABORT, 'stock_entry_confirmations: a row with this key already exists (append-only)'); END;
CREATE TRIGGER day_closes_no_update BEFORE UPDATE ON day_closes
BEGIN SELECT RAISE(ABORT, 'day_closes is append-only'); END;
CREATE TRIGGER day_closes_no_delete BEFORE DELETE ON day_closes
BEGIN SELECT RAISE(ABORT, 'day_closes is append-only'); END;
CREATE TRIGGER day_closes_no_replace BEFORE INSERT ON day_closes
WHEN EXISTS (SELECT 1 FROM day_closes WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'day_closes: a row with this key already exists (append-only)'); END;
CREATE TRIGGER day_close_confirmations_no_update BEFORE UPDATE ON day_close_confirmations
BEGIN SELECT RAISE(ABORT, 'day_close_confirmations is append-only'); END;
CREATE TRIGGER day_close_confirmations_no_delete BEFORE DELETE ON day_close_confirmations
BEGIN SELECT RAISE(ABORT, 'day_close_confirmations is append-only'); END;
CREATE TRIGGER day_close_confirmations_no_replace BEFORE INSERT ON day_close_confirmations
WHEN EXISTS (SELECT 1 FROM day_close_confirmations WHERE close_id = NEW.close_id)
BEGIN SELECT RAISE(ABORT, 'day_close_confirmations: a row with this key already exists (append-only)'); END;

-- Enum columns refuse any other value.
CREATE TRIGGER home_visit_steps_step_check_insert BEFORE INSERT ON home_visit_steps
WHEN NEW.step NOT IN ('checkout', 'checkout_confirm', 'arrive', 'outcome', 'return', 'return_confirm')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: home_visit_steps.step'); END;
CREATE TRIGGER home_visit_steps_outcome_check_insert BEFORE INSERT ON home_visit_steps
WHEN NEW.outcome IS NOT NULL AND NEW.outcome NOT IN ('delivered', 'not_home', 'refused')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: home_visit_steps.outcome'); END;
CREATE TRIGGER stock_entries_kind_check_insert BEFORE INSERT ON stock_entries
WHEN NEW.kind NOT IN ('receipt', 'transfer_out', 'transfer_in', 'waste', 'adjustment', 'reversal')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: stock_entries.kind'); END;
