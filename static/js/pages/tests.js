// Drug tests for the doctor: who is due a urine or hair test (a result entered in the row
// takes the row off the list), today's random urine selection of a site, and the positive
// hair tests still waiting for their police notification.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { loadSites } from "../sites.js";
import { TEST_KINDS, testEntryForm, testResultBadge } from "../tests-view.js";
import {
  pageHeading, field, messageBox, whileBusy, dataTable, codeLabel, formatDateTime, todayIso, showRefusal,
  clinicNowLocal, clinicInstant,
} from "../ui.js";

const DEFAULT_SELECTION_COUNT = 5;

export function render(container, { user }) {
  const date = todayIso();
  const police = policeSection();
  container.append(
    pageHeading(t("nav.tests")),
    h("p", { class: "lead" }, t("page.tests.intro")),
    dueSection(date, user, (test) => {
      if (test.police_notification_required && !test.police_notification) police.load();
    }),
    selectionSection(date, user),
    police.el,
  );
  police.load();
}

// ── Due tests: the work list ───────────────────────────────────────────────────────
// Overdue / due this week / upcoming (the next 30 days), each with its count in the tab,
// filtered by kind and site, a page at a time; a result is entered from the row on demand.
const DUE_GROUPS = ["overdue", "this_week", "upcoming"];
const LOOK_AHEAD_DAYS = 30;
const PAGE_SIZE = 20;

function dueSection(date, user, onRecorded) {
  const error = messageBox("due-tests-error", "error");
  const status = messageBox("due-tests-status", "info");
  const done = messageBox("due-tests-result", "status");
  const tbody = h("tbody", { id: "due-tests-body" });
  const kinds = ["all", ...TEST_KINDS];
  const kindRadios = kinds.map((value) =>
    h("input", { type: "radio", name: "due-kind", id: `due-filter-kind-${value}`, value, checked: value === "all" }),
  );
  const siteFilter = h("select", { id: "due-filter-site", name: "site_id" }, h("option", { value: "" }, t("tests.all_sites")));
  const tabs = Object.fromEntries(
    DUE_GROUPS.map((group) => [
      group,
      h("button", { type: "button", role: "tab", class: `due-tab due-tab-${group}`, id: `due-tab-${group}`, "data-group": group, "aria-controls": "due-tests-table", onclick: () => showGroup(group) }),
    ]),
  );
  const prev = h("button", { type: "button", id: "due-page-prev", class: "button-secondary", onclick: () => showPage(page - 1) }, t("tests.page_prev"));
  const next = h("button", { type: "button", id: "due-page-next", class: "button-secondary", onclick: () => showPage(page + 1) }, t("tests.page_next"));
  const pageInfo = h("span", { id: "due-page-info", class: "muted" });
  let sites = [];
  let all = []; // every item of the list
  let group = "overdue";
  let page = 0;
  let firstLoad = true;
  const siteName = (id) => sites.find((site) => site.id === id)?.name ?? t("common.empty_value");

  function filtered() {
    const kind = kindRadios.find((radio) => radio.checked)?.value ?? "all";
    return all.filter((item) => (kind === "all" || item.kind === kind) && (siteFilter.value === "" || item.home_site_id === siteFilter.value));
  }

  function render() {
    const items = filtered();
    for (const g of DUE_GROUPS) {
      const n = items.filter((item) => item.group === g).length;
      tabs[g].replaceChildren(t(`tests.group.${g}`), " ", h("span", { class: "due-count", "data-count": n }, String(n)));
      tabs[g].setAttribute("aria-selected", String(g === group));
      tabs[g].dataset.count = n;
    }
    const shown = items.filter((item) => item.group === group);
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    page = Math.min(Math.max(page, 0), pages - 1);
    tbody.replaceChildren(...shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map(row));
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    pageInfo.textContent = t("tests.page_info", { page: page + 1, pages, n: shown.length });
    status.show(all.length === 0 ? t("tests.due_none", { date }) : shown.length === 0 ? t("tests.due_none_in_filter") : t(`tests.group_hint.${group}`, { n: shown.length }));
  }

  function showGroup(g) {
    group = g;
    page = 0;
    render();
    tabs[g].focus();
  }

  function showPage(p) {
    page = p;
    render();
  }

  function dueWords(item) {
    if (item.days_overdue > 0) return t("tests.overdue_days", { n: item.days_overdue });
    if (item.days_overdue === 0) return t("tests.due_today");
    return t("tests.due_in_days", { n: -item.days_overdue });
  }

  function row(item) {
    const idBase = `due-${item.patient_id}-${item.kind}`;
    const open = h("button", { type: "button", class: "button-secondary due-open", id: `${idBase}-open`, "aria-expanded": "false" }, t("tests.record_result"));
    const slot = h("div", { class: "due-entry" });
    open.addEventListener("click", () => {
      if (slot.firstChild) {
        slot.replaceChildren();
        open.setAttribute("aria-expanded", "false");
        return;
      }
      open.setAttribute("aria-expanded", "true");
      slot.replaceChildren(
        testEntryForm({
          patientId: item.patient_id,
          kind: item.kind,
          idBase,
          onSaved: (test) => {
            all = all.filter((other) => other !== item);
            done.el.dataset.patientId = item.patient_id;
            done.show(t("tests.recorded", { name: item.patient_name, kind: codeLabel("test_kind", test.kind), result: codeLabel("test_result", test.result) }));
            render();
            (tbody.querySelector(".due-open") ?? tabs[group]).focus();
            onRecorded(test);
          },
        }),
      );
      slot.querySelector("input, select")?.focus();
    });
    return h(
      "tr",
      { "data-patient-id": item.patient_id, "data-kind": item.kind, "data-site-id": item.home_site_id, "data-days-overdue": item.days_overdue, "data-group": item.group },
      h("td", {}, h("a", { href: `#/patients/${encodeURIComponent(item.patient_id)}` }, item.patient_name), h("br"), h("span", { class: "muted" }, item.patient_no)),
      h("td", {}, siteName(item.home_site_id)),
      h("td", { class: "nowrap" }, codeLabel("risk", item.risk_level)),
      h("td", { class: "nowrap" }, h("span", { class: `badge test-kind kind-${item.kind}` }, codeLabel("test_kind", item.kind))),
      h("td", { class: "nowrap" }, item.last_sampled_on ?? t("tests.never")),
      h("td", { class: "nowrap" }, item.due_since, h("br"), h("span", { class: item.days_overdue > 0 ? "bad" : "muted" }, dueWords(item))),
      h("td", { class: "actions" }, open, slot),
    );
  }

  async function load() {
    error.clear();
    try {
      const [due, loadedSites] = await Promise.all([
        api.get(`/tests/due?date=${date}&within_days=${LOOK_AHEAD_DAYS}`),
        loadSites().catch(() => []),
      ]);
      sites = loadedSites;
      siteFilter.replaceChildren(
        h("option", { value: "" }, t("tests.all_sites")),
        ...sites.filter((site) => site.active).map((site) => h("option", { value: site.id }, site.name)),
      );
      // Longest overdue first, then the soonest due: the list reads as a work queue.
      all = due.sort((a, b) => (b.days_overdue ?? 0) - (a.days_overdue ?? 0));
      if (firstLoad) group = DUE_GROUPS.find((g) => all.some((item) => item.group === g)) ?? group;
      firstLoad = false;
      render();
    } catch (err) {
      error.showError(err);
    }
  }

  const kindGroup = h(
    "fieldset",
    { class: "radio-group queue-filter", id: "due-filter-kind" },
    h("legend", {}, t("tests.kind")),
    kindRadios.map((radio, i) => h("label", { class: "checkbox", for: radio.id }, radio, kinds[i] === "all" ? t("queue.all") : codeLabel("test_kind", kinds[i]))),
  );
  kindGroup.addEventListener("change", () => {
    page = 0;
    render();
  });
  siteFilter.addEventListener("change", () => {
    page = 0;
    render();
  });
  load();

  return h(
    "section",
    { id: "due-tests-section", "aria-labelledby": "due-tests-heading" },
    h("h2", { id: "due-tests-heading", tabindex: "-1" }, t("tests.due_heading")),
    h("p", { class: "hint" }, t("tests.due_hint")),
    h("div", { class: "due-tabs", role: "tablist", "aria-label": t("tests.groups_label") }, DUE_GROUPS.map((g) => tabs[g])),
    h("div", { class: "queue-tools" }, kindGroup, h("div", { class: "inline-field" }, h("label", { for: siteFilter.id }, t("tests.site")), siteFilter)),
    error.el,
    done.el,
    status.el,
    dataTable(
      "due-tests-table",
      [t("patient.name"), t("patient.home_site"), t("patient.risk_level"), t("tests.kind"), t("tests.last_sampled_on"), t("tests.due_since"), t("tests.record_result")],
      tbody,
    ),
    h("div", { class: "pager" }, prev, pageInfo, next),
  );
}

// ── Random urine selection ─────────────────────────────────────────────────────────
function selectionSection(date, user) {
  const site = h("select", { name: "site_id", required: true }, h("option", { value: "" }, t("common.loading")));
  const count = h("input", { type: "number", name: "count", required: true, min: 1, max: 100, step: 1, value: DEFAULT_SELECTION_COUNT, inputmode: "numeric" });
  const submit = h("button", { type: "submit", id: "urine-select-submit", class: "button-primary" }, t("tests.selection_submit"));
  const error = messageBox("urine-selection-error", "error");
  const result = h("div", { id: "urine-selection", class: "selection-result" });
  let ticket = 0;

  function showSelection(selection) {
    const list = h(
      "ol",
      { id: "urine-selected-list", class: "selected-list" },
      selection.patients.map((patient) =>
        h(
          "li",
          { "data-patient-id": patient.patient_id },
          h("span", { class: "selected-who" }, h("a", { href: `#/patients/${encodeURIComponent(patient.patient_id)}` }, patient.patient_name), " ", h("span", { class: "muted" }, patient.patient_no)),
          testEntryForm({
            patientId: patient.patient_id,
            kind: "urine",
            idBase: `selected-${patient.patient_id}`,
            body: { selection_id: selection.id },
            onSaved: (test, form) => {
              form.replaceWith(h("span", { class: "selected-done", role: "status" }, t("tests.recorded_short"), " ", testResultBadge(test.result)));
            },
          }),
        ),
      ),
    );
    result.dataset.selectionId = selection.id;
    result.dataset.seed = selection.seed;
    result.replaceChildren(
      h(
        "p",
        { class: "selection-facts" },
        t("tests.selection_facts", { date: selection.date, n: selection.patients.length, candidates: selection.candidates }),
        " ",
        h("span", { class: "selection-seed" }, t("tests.selection_seed", { seed: selection.seed })),
      ),
      h("p", { class: "muted" }, t("tests.selection_by", { name: selection.created_by_name ?? t("common.empty_value"), at: formatDateTime(selection.created_at) })),
      selection.patients.length ? list : h("p", { class: "muted" }, t("tests.selection_empty")),
    );
  }

  /** Today's selection of the chosen site, if it has been drawn. */
  async function loadExisting() {
    const mine = ++ticket;
    error.clear();
    delete result.dataset.selectionId;
    delete result.dataset.seed;
    result.replaceChildren();
    if (!site.value) return;
    try {
      const selection = await api.get(`/tests/urine-selections?site_id=${encodeURIComponent(site.value)}&date=${date}`);
      if (mine === ticket) showSelection(selection);
    } catch (err) {
      if (mine !== ticket) return;
      if (err.status === 404) result.replaceChildren(h("p", { class: "muted", id: "urine-selection-none" }, t("tests.selection_none")));
      else error.showError(err);
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    error.clear();
    const n = Number(count.value);
    if (!site.value) return site.focus();
    if (!Number.isInteger(n) || n < 1) {
      error.show(t("tests.selection_count_invalid"));
      return count.focus();
    }
    try {
      ticket++;
      const selection = await whileBusy(submit, t("common.saving"), () => api.post("/tests/urine-selections", { site_id: site.value, count: n }));
      showSelection(selection);
    } catch (err) {
      error.el.dataset.code = err.code;
      error.showError(err);
    }
  }

  loadSites().then(
    (sites) => {
      const active = sites.filter((item) => item.active);
      site.replaceChildren(...active.map((item) => h("option", { value: item.id }, item.name)));
      const mine = active.find((item) => user.site_ids?.includes(item.id));
      if (mine) site.value = mine.id;
      loadExisting();
    },
    (err) => error.showError(err),
  );
  site.addEventListener("change", loadExisting);

  return h(
    "section",
    { class: "panel", id: "urine-selection-section", "aria-labelledby": "urine-selection-heading" },
    h("h2", { id: "urine-selection-heading" }, t("tests.selection_heading")),
    h("p", { class: "hint" }, t("tests.selection_hint")),
    h(
      "form",
      { id: "urine-selection-form", class: "form-grid compact", onsubmit: onSubmit },
      field("urine-site", t("tests.site"), site),
      field("urine-count", t("tests.selection_count"), count),
      h("div", { class: "form-actions" }, submit, error.el),
    ),
    result,
  );
}

// ── Police notifications ───────────────────────────────────────────────────────────
function policeSection() {
  const error = messageBox("police-error", "error");
  const status = messageBox("police-status", "info");
  const done = messageBox("police-result", "status");
  const tbody = h("tbody", { id: "police-body" });

  function row(item) {
    const tid = item.test_id;
    const notifiedAt = h("input", { type: "datetime-local", name: "notified_at", id: `police-at-${tid}`, required: true, value: clinicNowLocal(), max: clinicNowLocal() });
    const unit = h("input", { type: "text", name: "police_unit", id: `police-unit-${tid}`, required: true, autocomplete: "off" });
    const note = h("input", { type: "text", name: "note", id: `police-note-${tid}`, autocomplete: "off" });
    const submit = h("button", { type: "submit", class: "button-primary police-submit", "data-test-id": tid }, t("tests.police_submit"));
    const message = h("div", { class: "message row-message", role: "alert", "data-police-message": tid });

    async function onSubmit(event) {
      event.preventDefault();
      message.className = "message row-message";
      message.replaceChildren();
      const at = clinicInstant(notifiedAt.value);
      const fail = (text, control) => {
        message.className = "message row-message message-error";
        message.textContent = text;
        control.focus();
      };
      if (!at) return fail(t("tests.police_at_required"), notifiedAt);
      if (!unit.value.trim()) return fail(t("tests.police_unit_required"), unit);
      const body = { notified_at: at, police_unit: unit.value.trim() };
      if (note.value.trim()) body.note = note.value.trim();
      try {
        await whileBusy(submit, t("common.saving"), () => api.post(`/tests/${encodeURIComponent(tid)}/police-notification`, body));
        tr.remove();
        done.show(t("tests.police_done", { name: item.patient_name, unit: body.police_unit }));
        showCount();
      } catch (err) {
        message.className = "message row-message message-error";
        showRefusal(message, err);
      }
    }

    const tr = h(
      "tr",
      { "data-test-id": tid, "data-patient-id": item.patient_id },
      h("td", {}, h("a", { href: `#/patients/${encodeURIComponent(item.patient_id)}` }, item.patient_name), h("br"), h("span", { class: "muted" }, item.patient_no)),
      h("td", { class: "nowrap" }, item.sampled_on),
      h(
        "td",
        {},
        h(
          "form",
          { class: "police-form", "data-test-id": tid, novalidate: true, onsubmit: onSubmit },
          h("div", { class: "field" }, h("label", { for: notifiedAt.id }, t("tests.police_notified_at")), notifiedAt),
          h("div", { class: "field" }, h("label", { for: unit.id }, t("tests.police_unit")), unit),
          h("div", { class: "field" }, h("label", { for: note.id }, t("tests.police_note")), note),
          submit,
          message,
        ),
      ),
    );
    return tr;
  }

  function showCount() {
    const n = tbody.rows.length;
    status.show(n ? t("tests.police_count", { n }) : t("tests.police_none"));
  }

  async function load() {
    error.clear();
    try {
      const outstanding = await api.get("/police-notifications/outstanding");
      tbody.replaceChildren(...outstanding.map(row));
      showCount();
    } catch (err) {
      tbody.replaceChildren();
      error.showError(err);
    }
  }

  const el = h(
    "section",
    { id: "police-section", "aria-labelledby": "police-heading" },
    h("h2", { id: "police-heading" }, t("tests.police_heading")),
    h("p", { class: "hint" }, t("tests.police_hint")),
    error.el,
    done.el,
    status.el,
    dataTable("police-table", [t("patient.name"), t("tests.sampled_on"), t("tests.police_record")], tbody),
  );
  return { el, load };
}
