import { h } from "../dom.js";
import { t, hasText } from "../i18n.js";
import { api } from "../api.js";
import { pageHeading, field, messageBox, whileBusy, dataTable, formatDateTime, codeLabel } from "../ui.js";

const PAGE_SIZE = 50;
const HASH_SHOWN = 12;
// The kinds of object the trail records, in the order an admin looks for them.
const ENTITIES = [
  "patient", "dose", "order", "drug_test", "alert", "rehab_case", "disclosure", "staff", "session", "site",
  "home_visit", "stock_entry", "day_close", "product", "sweep", "urine_selection", "clock",
];

/** A detail value in words: codes the string tables know (alert kinds, statuses, views). */
function detailWord(key, value) {
  if (value === null || value === undefined) return t("common.empty_value");
  const tables = { kind: ["alert_kind"], from: ["patient_status"], to: ["patient_status"], what: ["disclosure_what"], cause: ["sweep_cause"] };
  for (const prefix of tables[key] ?? []) if (hasText(`${prefix}.${value}`)) return t(`${prefix}.${value}`);
  return String(value);
}

/** The entry's details in words, from its structured details and the string tables. */
function detailsText(entry) {
  const key = `audit_details.${entry.action}`;
  if (entry.details && hasText(key)) {
    const words = Object.fromEntries(Object.entries(entry.details).map(([k, v]) => [k, detailWord(k, v)]));
    return t(key, words);
  }
  // Older entries hold an English sentence: shown in English only.
  return document.documentElement.lang === "en" && !entry.details ? entry.summary ?? "" : "";
}

function row(entry) {
  const actor = entry.actor_name ?? entry.actor_username ?? (entry.actor_id ? t("common.empty_value") : t("audit.system"));
  return h(
    "tr",
    { "data-seq": entry.seq, "data-action": entry.action, "data-entity": entry.entity },
    h("td", { class: "num" }, entry.seq),
    h("td", {}, formatDateTime(entry.at)),
    h("td", {}, actor),
    h("td", {}, codeLabel("audit_action", entry.action)),
    h("td", {}, codeLabel("audit_entity", entry.entity), entry.entity_label ? h("span", { class: "audit-object" }, h("br"), entry.entity_label) : null),
    h("td", { class: "summary" }, detailsText(entry)),
    h("td", { class: "id", title: entry.hash, translate: "no" }, h("code", {}, `${String(entry.hash).slice(0, HASH_SHOWN)}…`)),
  );
}

export function render(container) {
  const entity = h(
    "select",
    { name: "entity" },
    h("option", { value: "" }, t("audit.entity_all")),
    ENTITIES.map((kind) => h("option", { value: kind }, codeLabel("audit_entity", kind))),
  );
  // An object is picked from its own page (a patient's trail, say): ?entity_id= in the hash.
  const wanted = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const submit = h("button", { type: "submit", id: "audit-filter-submit", class: "button-primary" }, t("audit.filter_submit"));
  const clear = h("button", { type: "button", id: "audit-filter-clear", class: "button-secondary" }, t("audit.filter_clear"));
  const older = h("button", { type: "button", id: "audit-older", class: "button-secondary", hidden: true }, t("audit.older"));
  const error = messageBox("audit-error", "error");
  const status = messageBox("audit-status", "info");
  const tbody = h("tbody");
  let filter = { entity: wanted.get("entity") ?? "", entity_id: wanted.get("entity_id") ?? "" };
  entity.value = filter.entity;
  let nextBefore = null;

  async function load(append) {
    error.clear();
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (filter.entity) params.set("entity", filter.entity);
    if (filter.entity_id) params.set("entity_id", filter.entity_id);
    if (append) params.set("before", String(nextBefore));
    try {
      const page = await api.get(`/audit?${params}`);
      const rows = page.entries.map(row);
      if (append) tbody.append(...rows);
      else tbody.replaceChildren(...rows);
      nextBefore = page.next_before ?? null;
      older.hidden = nextBefore === null;
      const shown = tbody.rows.length;
      status.show(shown === 0 ? t("audit.empty") : t(nextBefore === null ? "audit.count_all" : "audit.count", { n: shown }));
      // After paging, continue reading where the new rows start.
      if (append && rows.length) {
        rows[0].tabIndex = -1;
        rows[0].focus();
      }
    } catch (err) {
      error.showError(err);
    }
  }

  function onFilter(event) {
    event.preventDefault();
    filter = { entity: entity.value, entity_id: "" };
    whileBusy(submit, t("common.loading"), () => load(false));
  }

  clear.addEventListener("click", () => {
    entity.value = "";
    filter = {};
    load(false);
    entity.focus();
  });
  older.addEventListener("click", () => whileBusy(older, t("common.loading"), () => load(true)));

  container.append(
    pageHeading(t("nav.audit")),
    h(
      "form",
      { id: "audit-filter-form", class: "form-grid panel", role: "search", "aria-label": t("audit.filter_heading"), onsubmit: onFilter },
      field("audit-entity", t("audit.entity"), entity),
      h("div", { class: "form-actions" }, submit, clear),
    ),
    error.el,
    status.el,
    dataTable(
      "audit-table",
      [
        t("audit.seq"), t("audit.at"), t("audit.actor"), t("audit.action"),
        t("audit.object"), t("audit.summary"), t("audit.hash"),
      ],
      tbody,
    ),
    h("div", { class: "pager" }, older),
  );
  load(false);
}
