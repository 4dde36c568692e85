// The rehab worker's home: their community detox / rehab cases, each with 90 days of
// attendance (came or not; never doses), its unresolved alerts to acknowledge with a note,
// and a form to record a case event (reported, evasion, detention, release). Cases with
// open alerts come first.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api, errorText } from "../api.js";
import { attendanceStrip, attendanceLegend } from "../attendance-strip.js";
import { alertList } from "../alert-view.js";
import { pageHeading, field, messageBox, whileBusy, codeLabel, todayIso, addDays } from "../ui.js";

const STRIP_DAYS = 90;
// Attendance requests in flight at once, so that a long case list does not flood the server.
const STRIP_LOADS = 4;
export const CASE_KINDS = ["community_detox", "community_rehab"];
export const CASE_STATUSES = ["report_overdue", "awaiting_report", "active", "suspended", "ended"];
const EVENT_KINDS = ["reported", "evasion", "detention", "release"];
const STATUS_BADGE = { report_overdue: "blocked", awaiting_report: "warn", active: "ok", suspended: "warn", ended: "" };

export function caseStatusBadge(status) {
  return h("span", { class: `badge case-status ${STATUS_BADGE[status] ?? ""}`, "data-case-status": status }, codeLabel("case_status", status));
}

/** Which case each alert belongs to: its case_id, else the patient's current (or only) case. */
function alertsByCase(cases, alerts) {
  const byCase = new Map(cases.map((item) => [item.id, []]));
  const other = [];
  for (const alert of alerts) {
    const mine = cases.filter((item) => item.patient_id === alert.patient_id);
    const target =
      (alert.case_id && byCase.has(alert.case_id) ? alert.case_id : null) ??
      mine.find((item) => item.status !== "ended")?.id ??
      mine[0]?.id;
    if (target) byCase.get(target).push(alert);
    else other.push(alert);
  }
  return { byCase, other };
}

/** Runs the attendance loads a few at a time, in the order the cards are shown. */
function limitedQueue(limit) {
  const waiting = [];
  let running = 0;
  const next = () => {
    if (running >= limit || !waiting.length) return;
    running++;
    waiting
      .shift()()
      .finally(() => {
        running--;
        next();
      });
  };
  return (work) => {
    waiting.push(work);
    next();
  };
}

export function render(container) {
  const error = messageBox("cases-error", "error");
  const status = messageBox("cases-status", "info");
  const list = h("div", { id: "cases-list", class: "case-list" });
  const otherAlerts = h("section", { id: "other-alerts", class: "panel", "aria-labelledby": "other-alerts-heading", hidden: true });
  const to = todayIso();
  const from = addDays(to, -(STRIP_DAYS - 1));
  const enqueue = limitedQueue(STRIP_LOADS);

  function card(item, alerts) {
    const cid = item.id;
    const base = `/rehab-cases/${encodeURIComponent(cid)}`;
    const badges = h("p", { class: "case-badges" });
    const facts = h("dl", { class: "facts case-facts" });
    const stripSlot = h("div", { class: "chart-slot" }, h("p", { class: "muted" }, t("common.loading")));
    const alertsSlot = h("div", { class: "case-alerts" });
    let shown = alerts;
    const article = h(
      "article",
      { class: "panel case-card", id: `case-${cid}`, "data-case-id": cid, "data-patient-id": item.patient_id, "aria-labelledby": `case-title-${cid}` },
      h(
        "div",
        { class: "case-head" },
        h("h2", { id: `case-title-${cid}` }, item.patient_name, " ", h("span", { class: "muted patient-no" }, item.patient_no)),
        badges,
      ),
      facts,
      h("section", { class: "case-section", "aria-labelledby": `case-att-${cid}` }, h("h3", { id: `case-att-${cid}` }, t("cases.attendance", { days: STRIP_DAYS })), stripSlot),
      h("section", { class: "case-section", "aria-labelledby": `case-alerts-${cid}` }, h("h3", { id: `case-alerts-${cid}` }, t("cases.alerts")), alertsSlot),
      eventForm(),
    );

    function showCase(current, alerts) {
      item = current;
      const open = Math.max(current.open_alerts ?? 0, alerts.filter((alert) => alert.status === "open").length);
      article.dataset.caseStatus = current.status;
      article.dataset.openAlerts = String(open);
      article.classList.toggle("has-open-alerts", open > 0);
      badges.replaceChildren(
        ...[
          h("span", { class: "badge case-kind", "data-case-kind": current.kind }, codeLabel("case_kind", current.kind)),
          caseStatusBadge(current.status),
          open > 0 ? h("span", { class: "badge blocked", "data-open-alerts": open }, t("cases.open_alerts", { n: open })) : null,
        ].filter(Boolean),
      );
      const fact = (key, value, cls) => h("div", { class: "fact" }, h("dt", {}, t(key)), h("dd", { class: cls }, value ?? t("common.empty_value")));
      const reported = current.reported_on
        ? current.reported_on
        : h("span", { class: current.status === "report_overdue" ? "bad" : null }, t("cases.not_reported", { date: current.report_due_by }));
      facts.replaceChildren(
        ...[
          fact("cases.case_ref", current.case_ref ? h("span", { translate: "no" }, current.case_ref) : t("case.no_ref"), "case-ref"),
          fact("patient.township", current.township),
          fact("cases.decision_date", current.decision_date, "case-decision-date"),
          fact("cases.reported_on", reported, "case-reported-on"),
          fact("cases.ends_on", current.ends_on, "case-ends-on"),
          fact("cases.refusals", String(current.refusals ?? 0), "case-refusals"),
        ].filter(Boolean),
      );
    }

    function showAlerts(alerts) {
      shown = alerts;
      alertsSlot.replaceChildren(
        shown.length
          ? alertList(`case-alert-list-${cid}`, shown, { showPatient: false, onChange: onAlertChange })
          : h("p", { class: "muted case-no-alerts" }, t("cases.no_alerts")),
      );
      showCase(item, shown);
    }

    /** After an acknowledgement the item redraws itself; only the counts here change. */
    function onAlertChange(updated) {
      shown = shown.map((alert) => (alert.id === updated.id ? updated : alert));
      showCase({ ...item, open_alerts: shown.filter((alert) => alert.status === "open").length }, shown);
    }

    /** After a case event, which may have resolved an alert (a late report) or opened one. */
    async function refreshAlerts() {
      try {
        const fresh = await api.get(`/alerts?status=unresolved&patient_id=${encodeURIComponent(item.patient_id)}`);
        showAlerts(fresh.filter((alert) => !alert.case_id || alert.case_id === cid));
      } catch {
        // The list on screen stays; the next page load shows the change.
      }
    }

    async function loadStrip() {
      try {
        const rows = await api.get(`/patients/${encodeURIComponent(item.patient_id)}/attendance?from=${from}&to=${to}`);
        stripSlot.replaceChildren(attendanceStrip(rows, { from, to, id: `att-strip-${cid}` }));
      } catch (err) {
        stripSlot.replaceChildren(h("p", { class: "message message-error", role: "alert" }, errorText(err)));
      }
    }

    function eventForm() {
      const kind = h("select", { name: "kind", required: true }, EVENT_KINDS.map((value) => h("option", { value }, codeLabel("case_event", value))));
      const date = h("input", { type: "date", name: "date", required: true, value: to, max: to });
      const note = h("input", { type: "text", name: "note", autocomplete: "off" });
      const submit = h("button", { type: "submit", class: "button-secondary case-event-submit", "data-case-id": cid }, t("cases.event_submit"));
      const message = messageBox(`case-event-error-${cid}`, "error");
      const done = messageBox(`case-event-status-${cid}`, "status");
      async function onSubmit(event) {
        event.preventDefault();
        message.clear();
        done.clear();
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value)) return date.focus();
        const body = { kind: kind.value, date: date.value };
        if (note.value.trim()) body.note = note.value.trim();
        try {
          const updated = await whileBusy(submit, t("common.saving"), () => api.post(`${base}/events`, body));
          note.value = "";
          done.show(t("cases.event_saved", { kind: codeLabel("case_event", body.kind), date: body.date }));
          showCase(updated, shown);
          refreshAlerts();
        } catch (err) {
          message.el.dataset.code = err.code;
          message.showError(err);
        }
      }
      return h(
        "details",
        { class: "case-event" },
        h("summary", {}, t("cases.event_heading")),
        h(
          "form",
          { class: "form-grid compact case-event-form", id: `case-event-form-${cid}`, "data-case-id": cid, onsubmit: onSubmit },
          field(`case-event-kind-${cid}`, t("cases.event_kind"), kind),
          field(`case-event-date-${cid}`, t("cases.event_date"), date),
          field(`case-event-note-${cid}`, t("cases.event_note"), note),
          h("div", { class: "form-actions" }, submit, message.el, done.el),
        ),
      );
    }

    showAlerts(alerts);
    enqueue(loadStrip);
    return article;
  }

  async function load() {
    error.clear();
    try {
      const [cases, alerts] = await Promise.all([api.get("/rehab-cases"), api.get("/alerts?status=unresolved")]);
      const { byCase, other } = alertsByCase(cases, alerts);
      const rank = (item) => {
        const mine = byCase.get(item.id);
        if ((item.open_alerts ?? 0) > 0 || mine.some((alert) => alert.status === "open")) return 0;
        return mine.length ? 1 : 2;
      };
      const statusRank = (item) => CASE_STATUSES.indexOf(item.status);
      const sorted = [...cases].sort(
        (a, b) => rank(a) - rank(b) || statusRank(a) - statusRank(b) || String(a.patient_no).localeCompare(String(b.patient_no)),
      );
      list.replaceChildren(...sorted.map((item) => card(item, byCase.get(item.id))));
      const withOpen = sorted.filter((item) => rank(item) === 0).length;
      status.show(cases.length ? t("cases.count", { n: cases.length, open: withOpen }) : t("cases.none"));
      otherAlerts.hidden = !other.length;
      otherAlerts.replaceChildren(h("h2", { id: "other-alerts-heading" }, t("cases.other_alerts")), alertList("other-alert-list", other, { showPatient: true }));
    } catch (err) {
      error.showError(err);
    }
  }

  container.append(
    pageHeading(t("nav.cases")),
    h("p", { class: "lead" }, t("page.cases.intro")),
    attendanceLegend("attendance-legend"),
    error.el,
    status.el,
    list,
    otherAlerts,
  );
  load();
}
