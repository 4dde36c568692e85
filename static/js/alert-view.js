// One alert (missed doses, dropout, a positive or refused test, a rehab case overdue or in
// serious breach) as a list item, with its acknowledgement: the same on the rehab worker's
// cases, the alerts page and the doctor's patient page.
// li.alert-item[data-alert-id][data-alert-status] holds, while open, textarea.ack-note and
// button.ack-button; once acknowledged, .alert-ack with the note.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { codeLabel, formatDateTime, messageBox, showRefusal, whileBusy } from "./ui.js";

export const ALERT_STATUSES = ["open", "acknowledged", "resolved"];
export const ALERT_KINDS = ["missed_doses", "dropout", "positive_test", "test_refused", "rehab_report_overdue", "serious_breach"];

const STATUS_BADGE = { open: "blocked", acknowledged: "warn", resolved: "ok" };

/** Sort order: open first, then acknowledged, then resolved; newest first within each. */
export function alertOrder(a, b) {
  const rank = ALERT_STATUSES.indexOf(a.status) - ALERT_STATUSES.indexOf(b.status);
  if (rank) return rank;
  return a.opened_at < b.opened_at ? 1 : a.opened_at > b.opened_at ? -1 : 0;
}

export function alertStatusBadge(status) {
  return h("span", { class: `badge alert-status ${STATUS_BADGE[status] ?? ""}`, "data-status": status }, codeLabel("alert_status", status));
}

/**
 * A note form (acknowledge or resolve) that posts `{note}` to `path` and hands the
 * returned alert to `done`. `kind` names the classes: `${kind}-note`, `${kind}-button`.
 */
function noteForm(alert, kind, path, done) {
  const noteId = `${kind}-note-${alert.id}`;
  const note = h("textarea", { id: noteId, name: "note", class: `${kind}-note`, rows: 2, required: true });
  const submit = h("button", { type: "submit", class: `button-primary ${kind}-button` }, t(`alert.${kind}_submit`));
  const message = h("div", { class: "message row-message", role: "alert", "data-alert-message": alert.id });

  async function onSubmit(event) {
    event.preventDefault();
    message.className = "message row-message";
    message.replaceChildren();
    delete message.dataset.code;
    const text = note.value.trim();
    if (!text) {
      message.className = "message row-message message-error";
      message.dataset.code = "validation_failed";
      message.textContent = t(`alert.${kind}_note_required`);
      note.setAttribute("aria-invalid", "true");
      note.focus();
      return;
    }
    try {
      const updated = await whileBusy(submit, t("common.saving"), () => api.post(path, { note: text }));
      done(updated);
    } catch (err) {
      message.className = "message row-message message-error";
      showRefusal(message, err);
      note.focus();
    }
  }

  note.addEventListener("input", () => note.removeAttribute("aria-invalid"));
  return h(
    "form",
    { class: `alert-form ${kind}-form`, novalidate: true, onsubmit: onSubmit },
    h("label", { for: noteId }, t(`alert.${kind}_note`)),
    note,
    h("div", { class: "form-actions" }, submit, message),
  );
}

/** "见脱失预警": moves to the alert that took this one's place, when it is on the page. */
function supersededLink(alertId) {
  return h(
    "button",
    {
      type: "button",
      class: "link-button superseded-link",
      "data-superseded-by": alertId,
      onclick: () => {
        const target = document.querySelector(`li[data-alert-id="${CSS.escape(alertId)}"]`);
        if (!target) return;
        target.scrollIntoView({ block: "center" });
        target.setAttribute("tabindex", "-1");
        target.focus();
      },
    },
    t("alert.superseded_link"),
  );
}

/**
 * alertItem(alert, { showPatient, patientLinks, onChange }) → li.alert-item.
 * showPatient: name and number in the item (not on a page about one patient);
 * patientLinks: the name links to the doctor's patient page;
 * onChange(updated): after an acknowledgement or resolution (the item redraws itself).
 */
export function alertItem(alert, options = {}) {
  const { showPatient = true, patientLinks = false, onChange } = options;
  const titleId = `alert-title-${alert.id}`;

  function replaceWith(updated, messageKey) {
    const fresh = alertItem(updated, options);
    item.replaceWith(fresh);
    const outcome = fresh.querySelector(".alert-outcome");
    if (outcome) {
      outcome.textContent = t(messageKey);
      outcome.focus();
    }
    onChange?.(updated);
  }

  const patient = showPatient
    ? h(
        "span",
        { class: "alert-patient" },
        patientLinks
          ? h("a", { href: `#/patients/${encodeURIComponent(alert.patient_id)}` }, alert.patient_name)
          : h("strong", {}, alert.patient_name),
        " ",
        h("span", { class: "muted" }, alert.patient_no),
      )
    : null;

  const acknowledged = alert.acknowledged_at
    ? h(
        "p",
        { class: "alert-ack", "data-acknowledged-at": alert.acknowledged_at },
        h("span", { class: "alert-ack-head" }, t("alert.acknowledged_line", { name: alert.acknowledged_by_name ?? t("common.empty_value"), at: formatDateTime(alert.acknowledged_at) })),
        " ",
        h("span", { class: "alert-ack-note" }, alert.acknowledgement_note ?? ""),
      )
    : null;
  const resolved = alert.resolved_at
    ? h(
        "p",
        { class: "alert-resolution", "data-resolved-at": alert.resolved_at },
        t("alert.resolved_line", { at: formatDateTime(alert.resolved_at) }),
        alert.resolution ? ` ${alert.resolution}` : null,
        alert.superseded_by ? supersededLink(alert.superseded_by) : null,
      )
    : null;

  let action = null;
  if (alert.status === "open") {
    action = noteForm(alert, "ack", `/alerts/${encodeURIComponent(alert.id)}/acknowledge`, (updated) => replaceWith(updated, "alert.acknowledged"));
  } else if (alert.status === "acknowledged") {
    action = h(
      "details",
      { class: "alert-resolve" },
      h("summary", {}, t("alert.resolve_open")),
      noteForm(alert, "resolve", `/alerts/${encodeURIComponent(alert.id)}/resolve`, (updated) => replaceWith(updated, "alert.resolved")),
    );
  }

  const item = h(
    "li",
    {
      class: `alert-item alert-${alert.status}`,
      "data-alert-id": alert.id,
      "data-alert-status": alert.status,
      "data-alert-kind": alert.kind,
      "data-patient-id": alert.patient_id,
      "aria-labelledby": titleId,
    },
    h(
      "p",
      { class: "alert-head", id: titleId },
      h("span", { class: "badge alert-kind", "data-kind": alert.kind }, codeLabel("alert_kind", alert.kind)),
      " ",
      alertStatusBadge(alert.status),
      " ",
      patient,
      " ",
      h("span", { class: "muted nowrap" }, t("alert.opened_at", { at: formatDateTime(alert.opened_at) })),
    ),
    h("p", { class: "alert-message" }, alert.message),
    acknowledged,
    resolved,
    h("p", { class: "message message-status alert-outcome", role: "status", tabindex: "-1" }),
    action,
  );
  return item;
}

/** ul.alert-list (id `id`) of alerts in alertOrder, or an empty list. */
export function alertList(id, alerts, options) {
  return h("ul", { id, class: "alert-list" }, [...alerts].sort(alertOrder).map((alert) => alertItem(alert, options)));
}

/**
 * The patient page's section#patient-alerts-section: all of one patient's alerts, open
 * first. `load` fetches them again (after a test result, say).
 */
export function patientAlertsSection(patientId) {
  const slot = h("div", { id: "patient-alerts-slot" });
  const error = messageBox("patient-alerts-error", "error");
  const status = messageBox("patient-alerts-status", "info");

  function showCount() {
    const unresolved = slot.querySelectorAll('[data-alert-status="open"], [data-alert-status="acknowledged"]').length;
    const total = slot.querySelectorAll("[data-alert-status]").length;
    status.show(total ? t("alert.patient_count", { n: total, unresolved }) : t("alert.patient_none"));
  }

  async function load() {
    try {
      const alerts = await api.get(`/alerts?patient_id=${encodeURIComponent(patientId)}`);
      error.clear();
      slot.replaceChildren(alertList("patient-alert-list", alerts, { showPatient: false, onChange: showCount }));
      showCount();
    } catch (err) {
      error.showError(err);
    }
  }

  load();
  const el = h(
    "section",
    { class: "panel", id: "patient-alerts-section", "aria-labelledby": "patient-alerts-heading" },
    h("h2", { id: "patient-alerts-heading" }, t("alert.patient_heading")),
    error.el,
    status.el,
    slot,
  );
  return { el, load };
}
