// Alerts of the patients in the user's scope (a rehab worker's cases; every patient for
// doctors and the admin), unresolved by default, open ones first, each acknowledged with a
// note where it stands. The admin can also run the attendance/alert sweep now.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { alertList, ALERT_STATUSES } from "../alert-view.js";
import { pageHeading, messageBox, whileBusy, codeLabel } from "../ui.js";

const FILTERS = ["unresolved", ...ALERT_STATUSES];

export function render(container, { user }) {
  const error = messageBox("alerts-error", "error");
  const status = messageBox("alerts-status", "info");
  const slot = h("div", { id: "alerts-slot" });
  let filter = "unresolved";
  let ticket = 0;

  const radios = FILTERS.map((value) =>
    h("input", { type: "radio", name: "alert-filter", id: `alert-filter-${value}`, value, checked: value === filter }),
  );
  const filterGroup = h(
    "fieldset",
    { class: "radio-group queue-filter", id: "alert-filter" },
    h("legend", {}, t("alerts.filter")),
    radios.map((radio, i) => h("label", { class: "checkbox", for: radio.id }, radio, codeLabel("alert_filter", FILTERS[i]))),
  );
  filterGroup.addEventListener("change", (event) => {
    if (event.target.name !== "alert-filter") return;
    filter = event.target.value;
    load();
  });

  function countOpen() {
    const open = slot.querySelectorAll('[data-alert-status="open"]').length;
    const total = slot.querySelectorAll("[data-alert-status]").length;
    status.show(total ? t("alerts.count", { n: total, open }) : t("alerts.none", { filter: codeLabel("alert_filter", filter) }));
  }

  async function load() {
    const mine = ++ticket;
    error.clear();
    try {
      const alerts = await api.get(`/alerts?status=${filter}`);
      if (mine !== ticket) return;
      slot.replaceChildren(alertList("alerts-list", alerts, { showPatient: true, patientLinks: user.role === "doctor", onChange: countOpen }));
      countOpen();
    } catch (err) {
      if (mine === ticket) error.showError(err);
    }
  }

  container.append(
    pageHeading(t("nav.alerts")),
    h("p", { class: "lead" }, t("page.alerts.intro")),
    ...(user.role === "admin" ? [sweepPanel(load)] : []),
    h("div", { class: "queue-tools" }, filterGroup),
    error.el,
    status.el,
    slot,
  );
  load();
}

/** The admin's "run the sweep now": what it opened, resolved and marked as dropout. */
function sweepPanel(reload) {
  const run = h("button", { type: "button", id: "alert-sweep", class: "button-secondary" }, t("alerts.sweep"));
  const error = messageBox("alert-sweep-error", "error");
  const done = messageBox("alert-sweep-result", "status");
  run.addEventListener("click", async () => {
    error.clear();
    done.clear();
    try {
      const result = await whileBusy(run, t("alerts.sweeping"), () => api.post("/alerts/sweep"));
      done.el.dataset.opened = result.opened;
      done.el.dataset.resolved = result.resolved;
      done.el.dataset.dropouts = result.dropouts;
      done.show(t("alerts.sweep_done", { opened: result.opened, resolved: result.resolved, dropouts: result.dropouts }));
      await reload();
    } catch (err) {
      error.showError(err);
    }
  });
  return h(
    "section",
    { class: "panel sweep-panel", "aria-labelledby": "alert-sweep-heading" },
    h("h2", { id: "alert-sweep-heading" }, t("alerts.sweep_heading")),
    h("p", { class: "hint" }, t("alerts.sweep_hint")),
    h("div", { class: "form-actions" }, run, error.el, done.el),
  );
}
