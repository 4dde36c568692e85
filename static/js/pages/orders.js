// Orders above the high-dose line wait for a second doctor. The list of those pending,
// each with its approve button; a refusal (e.g. the prescriber approving their own
// order) is shown in the order's row. Below, late corrections of earlier days' doses
// waiting for a doctor who did not request them; then doses given at a window while it was
// offline that the server did not record (incidents of the last 30 days).
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import {
  pageHeading, messageBox, dataTable, codeLabel, formatMg, mgNumber, formatTime, localDay, whileBusy, showRefusal, ruleMessage,
} from "../ui.js";
import { lateCorrectionConfirm } from "../late-correction.js";

export function render(container, { user }) {
  const error = messageBox("pending-error", "error");
  const status = messageBox("pending-status", "info");
  const tbody = h("tbody");

  function row({ order, patient_id, patient_no, patient_name }) {
    const message = h("div", { class: "message row-message", role: "alert", "data-approve-message": order.id });
    const approve = h(
      "button",
      { type: "button", class: "button-primary", "data-approve": order.id, "aria-label": t("approve.button_named", { name: patient_name }) },
      t("approve.button"),
    );
    approve.addEventListener("click", async () => {
      message.className = "message row-message";
      message.replaceChildren();
      delete message.dataset.code;
      try {
        const answer = await whileBusy(approve, t("common.saving"), () => api.post(`/orders/${encodeURIComponent(order.id)}/approve`));
        tr.dataset.status = answer.status ?? "active";
        approve.remove();
        message.className = "message row-message message-status";
        message.setAttribute("role", "status");
        message.textContent = t("approve.done", { from: answer.effective_from ?? order.start_date });
        message.tabIndex = -1;
        message.focus();
      } catch (err) {
        message.className = "message row-message message-error";
        showRefusal(message, err);
        approve.focus();
      }
    });
    // The prescriber cannot approve their own order (second_doctor_required): no button,
    // the reason instead.
    const own = order.prescriber_id === user.id;
    const action = own
      ? h("p", { class: "muted own-order", "data-own-order": order.id }, t("approve.own_order"))
      : approve;
    const daily =
      order.portions_mg?.length === 2
        ? t("order.daily_split", { mg: formatMg(order.daily_mg), a: mgNumber(order.portions_mg[0]), b: mgNumber(order.portions_mg[1]) })
        : formatMg(order.daily_mg);
    const tr = h(
      "tr",
      { "data-order-id": order.id, "data-status": order.status, "data-patient-id": patient_id },
      h("td", {}, h("a", { href: `#/patients/${encodeURIComponent(patient_id)}` }, patient_name), h("br"), h("span", { class: "muted" }, patient_no)),
      h("td", { class: "num big-dose nowrap" }, daily, h("br"), h("span", { class: "muted" }, codeLabel("phase", order.phase))),
      h("td", {}, order.end_date ? t("order.period_range", { from: order.start_date, to: order.end_date }) : t("order.period_open", { from: order.start_date })),
      h("td", { class: "summary" }, order.reason, order.override_reason ? h("p", { class: "muted" }, t("approve.override", { reason: order.override_reason })) : null),
      h("td", {}, order.prescriber_name ?? t("common.empty_value"), h("br"), h("span", { class: "muted nowrap" }, localDay(order.created_at), " ", formatTime(order.created_at))),
      h("td", { class: "actions" }, action, message),
    );
    return tr;
  }

  async function load() {
    error.clear();
    try {
      const pending = await api.get("/orders/pending");
      tbody.replaceChildren(...pending.map(row));
      status.show(pending.length ? t("approve.count", { n: pending.length }) : t("approve.none"));
    } catch (err) {
      error.showError(err);
    }
  }

  // ── Late corrections awaiting a doctor ──────────────────────────────────────────
  const correctionsError = messageBox("corrections-error", "error");
  const correctionsStatus = messageBox("corrections-status", "info");
  const correctionsBody = h("tbody");

  function correctionRow(c) {
    const action = c.can_confirm
      ? lateCorrectionConfirm(c.dose_id, { idPrefix: `late-confirm-${c.id}` })
      : h("p", { class: "muted" }, t("correction.awaiting_other"));
    return h(
      "tr",
      { "data-late-correction-id": c.id, "data-dose-id": c.dose_id, "data-patient-id": c.patient_id },
      h("td", {}, h("a", { href: `#/patients/${encodeURIComponent(c.patient_id)}` }, c.patient_name), h("br"), h("span", { class: "muted" }, c.patient_no)),
      h("td", { class: "nowrap" }, c.dose_day, " ", formatTime(c.given_at), h("br"), h("span", { class: "muted" }, c.site_name ?? "")),
      h("td", { class: "num nowrap" }, formatMg(c.dose_mg)),
      h("td", { class: "summary" }, c.reason),
      h("td", {}, c.requested_by_name ?? t("common.empty_value"), h("br"), h("span", { class: "muted nowrap" }, localDay(c.requested_at), " ", formatTime(c.requested_at))),
      h("td", { class: "actions" }, action),
    );
  }

  async function loadCorrections() {
    correctionsError.clear();
    try {
      const pending = await api.get("/late-corrections/pending");
      correctionsBody.replaceChildren(...pending.map(correctionRow));
      correctionsStatus.show(pending.length ? t("correction.pending_count", { n: pending.length }) : t("correction.pending_none"));
    } catch (err) {
      correctionsError.showError(err);
    }
  }

  // ── Doses given offline that were not recorded ───────────────────────────────────
  const incidentsError = messageBox("incidents-error", "error");
  const incidentsStatus = messageBox("incidents-status", "info");
  const incidentsBody = h("tbody");

  function incidentRow(i) {
    return h(
      "tr",
      { "data-incident-id": i.id, "data-patient-id": i.patient_id, "data-reason": i.reason },
      h("td", {}, h("a", { href: `#/patients/${encodeURIComponent(i.patient_id)}` }, i.patient_name), h("br"), h("span", { class: "muted" }, i.patient_no)),
      h("td", { class: "nowrap" }, i.dose_day, " ", formatTime(i.terminal_given_at), h("br"), h("span", { class: "muted" }, i.site_name ?? "")),
      h("td", { class: "num nowrap" }, formatMg(i.dose_mg)),
      h("td", {}, i.nurse_name ?? t("common.empty_value")),
      h("td", { class: "summary" }, ...ruleMessage(i.reason, "", i.reason_details)),
      h("td", { class: "muted nowrap" }, localDay(i.received_at), " ", formatTime(i.received_at)),
    );
  }

  async function loadIncidents() {
    incidentsError.clear();
    try {
      const incidents = await api.get("/offline-incidents");
      incidentsBody.replaceChildren(...incidents.map(incidentRow));
      incidentsStatus.show(incidents.length ? t("incidents.count", { n: incidents.length }) : t("incidents.none"));
    } catch (err) {
      incidentsError.showError(err);
    }
  }

  container.append(
    pageHeading(t("nav.orders")),
    h("p", { class: "lead" }, t("approve.intro")),
    error.el,
    status.el,
    dataTable(
      "pending-table",
      [t("patient.name"), t("order.daily_mg_phase"), t("order.period"), t("order.reason"), t("order.prescriber"), t("common.actions")],
      tbody,
    ),
    h("p", {}, h("a", { href: "#/rules", id: "rules-link" }, t("orders.rules_link"))),
    h(
      "section",
      { id: "late-corrections-section", "aria-labelledby": "late-corrections-heading" },
      h("h2", { id: "late-corrections-heading" }, t("correction.pending_heading")),
      h("p", { class: "lead" }, t("correction.pending_intro")),
      correctionsError.el,
      correctionsStatus.el,
      dataTable(
        "late-corrections-table",
        [t("patient.name"), t("correction.dose_day"), t("correction.dose_mg"), t("correction.reason"), t("correction.requested_by"), t("common.actions")],
        correctionsBody,
      ),
    ),
    h(
      "section",
      { id: "incidents-section", "aria-labelledby": "incidents-heading" },
      h("h2", { id: "incidents-heading" }, t("incidents.heading")),
      h("p", { class: "lead" }, t("incidents.intro")),
      incidentsError.el,
      incidentsStatus.el,
      dataTable(
        "incidents-table",
        [t("patient.name"), t("incidents.given"), t("correction.dose_mg"), t("incidents.nurse"), t("incidents.reason"), t("incidents.received")],
        incidentsBody,
      ),
    ),
  );
  load();
  loadCorrections();
  loadIncidents();
}
