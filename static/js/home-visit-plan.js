// A patient's home visits as the doctor plans them: authorizations (reason, valid from/to),
// recurring schedules from the home site (weekdays, from, optional to), and ending a
// schedule when the patient can come to the window again. The run sheet (#/home-visits) is
// made from these schedules each day.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { loadSites } from "./sites.js";
import { field, messageBox, whileBusy, dataTable, todayIso, addDays, formatDateTime } from "./ui.js";

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

function period(from, to) {
  return to ? t("hvplan.period", { from, to }) : t("hvplan.period_open", { from });
}

/** The section, loaded at once; `el` goes on the page. */
export function patientHomeVisitSection(patientId) {
  const base = `/patients/${encodeURIComponent(patientId)}`;
  const error = messageBox("hvplan-error", "error");
  const status = messageBox("hvplan-status", "status");
  const authRows = h("tbody");
  const scheduleRows = h("tbody");
  const siteLine = h("p", { id: "hvplan-site", class: "hint" });
  let homeSiteId = null;

  // ── Authorization form (doctors) ───────────────────────────────────────────
  const reason = h("input", { type: "text", required: true, maxlength: 300, placeholder: t("hvplan.reason_example") });
  const validFrom = h("input", { type: "date", required: true, value: todayIso() });
  const validTo = h("input", { type: "date", required: true, value: addDays(todayIso(), 30) });
  const authSubmit = h("button", { type: "submit", id: "hvplan-auth-submit", class: "button-primary" }, t("hvplan.authorize"));
  const authForm = h(
    "form",
    {
      id: "hvplan-auth-form",
      class: "form-grid",
      onsubmit: (event) =>
        submit(event, authSubmit, () =>
          api.post(`${base}/home-visit-authorizations`, { reason: reason.value.trim(), valid_from: validFrom.value, valid_to: validTo.value }),
        t("hvplan.authorized"), () => {
          reason.value = "";
        }),
    },
    field("hvplan-reason", t("hvplan.reason"), reason),
    field("hvplan-valid-from", t("hvplan.valid_from"), validFrom),
    field("hvplan-valid-to", t("hvplan.valid_to"), validTo),
    h("div", { class: "form-actions" }, authSubmit),
  );

  // ── Schedule form ──────────────────────────────────────────────────────────
  const dayBoxes = WEEKDAYS.map((d) => h("input", { type: "checkbox", id: `hvplan-day-${d}`, value: String(d), checked: true }));
  const from = h("input", { type: "date", required: true, value: todayIso() });
  const to = h("input", { type: "date" });
  const scheduleSubmit = h("button", { type: "submit", id: "hvplan-schedule-submit", class: "button-primary" }, t("hvplan.schedule"));
  const scheduleForm = h(
    "form",
    {
      id: "hvplan-schedule-form",
      class: "form-grid",
      onsubmit: (event) =>
        submit(event, scheduleSubmit, () => {
          const body = {
            patient_id: patientId,
            site_id: homeSiteId,
            weekdays: dayBoxes.filter((b) => b.checked).map((b) => Number(b.value)),
            from: from.value,
          };
          if (to.value) body.to = to.value;
          return api.post("/home-visit-schedules", body);
        }, t("hvplan.scheduled"), () => {
          to.value = "";
        }),
    },
    h(
      "fieldset",
      { class: "checkbox-group" },
      h("legend", {}, t("hvplan.weekdays")),
      dayBoxes.map((box) => h("label", { for: box.id, class: "checkbox" }, box, t(`hvplan.day.${box.value}`))),
    ),
    field("hvplan-from", t("hvplan.from"), from),
    field("hvplan-to", t("hvplan.to_optional"), to),
    h("div", { class: "form-actions" }, scheduleSubmit),
  );

  async function submit(event, button, send, done, clear) {
    event.preventDefault();
    error.clear();
    status.clear();
    try {
      await whileBusy(button, t("common.saving"), send);
      clear();
      status.show(done);
      await load();
    } catch (e) {
      error.showError(e);
    }
  }

  // ── Lists ──────────────────────────────────────────────────────────────────
  function authRow(a) {
    const today = todayIso();
    const state = a.valid_to < today ? "expired" : a.valid_from > today ? "future" : "valid";
    return h(
      "tr",
      { "data-authorization-id": a.id, "data-state": state },
      h("td", {}, a.reason),
      h("td", {}, period(a.valid_from, a.valid_to)),
      h("td", {}, a.doctor_name || t("common.empty_value")),
      h("td", {}, h("span", { class: state === "valid" ? "badge ok" : "badge" }, t(`hvplan.auth_state.${state}`))),
    );
  }

  function endForm(schedule) {
    const lastDay = h("input", { type: "date", id: `hvplan-last-day-${schedule.id}`, required: true, value: todayIso(), min: todayIso() });
    const why = h("input", { type: "text", id: `hvplan-end-reason-${schedule.id}`, required: true, maxlength: 300, placeholder: t("hvplan.end_reason_example") });
    const confirm = h("button", { type: "submit", id: `hvplan-end-confirm-${schedule.id}`, class: "button-primary" }, t("hvplan.end_confirm"));
    return h(
      "form",
      {
        class: "inline-form",
        onsubmit: async (event) => {
          event.preventDefault();
          error.clear();
          status.clear();
          try {
            await whileBusy(confirm, t("common.saving"), () =>
              api.post(`/home-visit-schedules/${encodeURIComponent(schedule.id)}/end`, { last_day: lastDay.value, reason: why.value.trim() }),
            );
            status.show(t("hvplan.ended", { day: lastDay.value }));
            await load();
          } catch (e) {
            error.showError(e);
          }
        },
      },
      h("label", { for: lastDay.id }, t("hvplan.last_day")),
      lastDay,
      h("label", { for: why.id }, t("hvplan.end_reason")),
      why,
      confirm,
    );
  }

  function scheduleRow(s, siteNames) {
    const today = todayIso();
    const over = s.ended ? s.ended.last_day < today : s.to && s.to < today;
    const actions = h("td", {});
    if (!s.ended && !over) {
      const open = h("button", { type: "button", id: `hvplan-end-${s.id}` }, t("hvplan.end"));
      open.addEventListener("click", () => {
        open.replaceWith(endForm(s));
        actions.querySelector("input[type=text]")?.focus();
      });
      actions.append(open);
    }
    const state = s.ended
      ? t("hvplan.ended_state", { day: s.ended.last_day, reason: s.ended.reason, name: s.ended.ended_by_name, at: formatDateTime(s.ended.ended_at) })
      : over
        ? t("hvplan.over")
        : t("hvplan.running");
    return h(
      "tr",
      { "data-schedule-id": s.id, "data-ended": s.ended ? "true" : "false" },
      h("td", {}, siteNames.get(s.site_id) ?? t("common.empty_value")),
      h("td", {}, s.weekdays.length === 7 ? t("hvplan.every_day") : s.weekdays.map((d) => t(`hvplan.day.${d}`)).join("、")),
      h("td", {}, period(s.from, s.to)),
      h("td", {}, state),
      actions,
    );
  }

  async function load() {
    try {
      const [patient, auths, schedules, sites] = await Promise.all([
        api.get(base),
        api.get(`${base}/home-visit-authorizations`),
        api.get(`${base}/home-visit-schedules`),
        loadSites().catch(() => []),
      ]);
      homeSiteId = patient.home_site_id;
      const siteNames = new Map(sites.map((s) => [s.id, s.name]));
      siteLine.textContent = t("hvplan.from_site", { site: siteNames.get(homeSiteId) ?? t("common.empty_value") });
      authRows.replaceChildren(
        ...(auths.length ? auths.map(authRow) : [h("tr", {}, h("td", { colspan: 4, class: "muted" }, t("hvplan.no_authorizations")))]),
      );
      scheduleRows.replaceChildren(
        ...(schedules.length
          ? schedules.map((s) => scheduleRow(s, siteNames))
          : [h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("hvplan.no_schedules")))]),
      );
    } catch (e) {
      error.showError(e);
    }
  }

  const el = h(
    "section",
    { class: "panel", "aria-labelledby": "hvplan-heading", id: "home-visit-section" },
    h("h2", { id: "hvplan-heading" }, t("hvplan.heading")),
    h("p", { class: "hint" }, t("hvplan.intro")),
    error.el,
    status.el,
    h("h3", {}, t("hvplan.authorizations")),
    dataTable("hvplan-auth-table", [t("hvplan.reason"), t("hvplan.valid_period"), t("hvplan.doctor"), t("common.status")], authRows),
    authForm,
    h("h3", {}, t("hvplan.schedules")),
    siteLine,
    dataTable(
      "hvplan-schedule-table",
      [t("hvplan.site"), t("hvplan.weekdays"), t("hvplan.valid_period"), t("common.status"), t("common.actions")],
      scheduleRows,
    ),
    scheduleForm,
  );
  load();
  return { el, load };
}
