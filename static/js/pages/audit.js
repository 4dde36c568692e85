import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { pageHeading, field, messageBox, whileBusy, dataTable, formatDateTime } from "../ui.js";

const PAGE_SIZE = 50;
const HASH_SHOWN = 12;

function row(entry) {
  return h(
    "tr",
    { "data-seq": entry.seq },
    h("td", { class: "num" }, entry.seq),
    h("td", {}, formatDateTime(entry.at)),
    h("td", {}, entry.actor_username ?? entry.actor_id ?? t("common.empty_value")),
    h("td", {}, h("code", {}, entry.action)),
    h("td", {}, h("code", {}, entry.entity)),
    h("td", { class: "id" }, entry.entity_id ?? t("common.empty_value")),
    h("td", { class: "summary" }, entry.summary ?? ""),
    h("td", { class: "id", title: entry.hash }, h("code", {}, `${String(entry.hash).slice(0, HASH_SHOWN)}…`)),
  );
}

export function render(container) {
  const entity = h("input", { type: "text", name: "entity", autocomplete: "off", spellcheck: "false" });
  const entityId = h("input", { type: "text", name: "entity_id", autocomplete: "off", spellcheck: "false" });
  const submit = h("button", { type: "submit", id: "audit-filter-submit", class: "button-primary" }, t("audit.filter_submit"));
  const clear = h("button", { type: "button", id: "audit-filter-clear", class: "button-secondary" }, t("audit.filter_clear"));
  const older = h("button", { type: "button", id: "audit-older", class: "button-secondary", hidden: true }, t("audit.older"));
  const error = messageBox("audit-error", "error");
  const status = messageBox("audit-status", "info");
  const tbody = h("tbody");
  let filter = {};
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
    filter = { entity: entity.value.trim(), entity_id: entityId.value.trim() };
    whileBusy(submit, t("common.loading"), () => load(false));
  }

  clear.addEventListener("click", () => {
    entity.value = "";
    entityId.value = "";
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
      field("audit-entity-id", t("audit.entity_id"), entityId),
      h("div", { class: "form-actions" }, submit, clear),
    ),
    error.el,
    status.el,
    dataTable(
      "audit-table",
      [
        t("audit.seq"), t("audit.at"), t("audit.actor"), t("audit.action"),
        t("audit.entity"), t("audit.entity_id"), t("audit.summary"), t("audit.hash"),
      ],
      tbody,
    ),
    h("div", { class: "pager" }, older),
  );
  load(false);
}
