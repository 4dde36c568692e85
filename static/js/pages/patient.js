// One patient for the doctor: who they are, 90 days of doses at a glance, the order
// history, writing a new order (refusals shown with their rule code, nothing typed is
// lost), ECGs, status changes and the printable dose card. The doses of the last 90 days
// with their reversals and late corrections: a dose of an earlier day takes "申请更正", and
// another doctor's pending correction is confirmed here.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api, errorText } from "../api.js";
import { loadSites } from "../sites.js";
import { photoFrame } from "../photo.js";
import { doseChart } from "../dose-chart.js";
import { patientTestsSection } from "../tests-view.js";
import { patientAlertsSection } from "../alert-view.js";
import { patientHomeVisitSection } from "../home-visit-plan.js";
import { photoProblem, uploadPhoto, PHOTO_TYPES } from "./patients.js";
import { lateCorrectionRequest, lateCorrectionConfirm } from "../late-correction.js";
import {
  pageHeading, field, messageBox, whileBusy, dataTable, codeLabel, formatMg, mgNumber, formatTime, localDay,
  parseMg, sexAge, todayIso, addDays, ruleMessage, openPdf,
} from "../ui.js";

const CHART_DAYS = 90;
const PHASES = ["induction", "maintenance", "taper", "transfer"];
const STATUSES = ["active", "suspended", "discharged", "deceased"];

export function render(container, { params, user }) {
  const patientId = params.id;
  const base = `/patients/${encodeURIComponent(patientId)}`;
  const heading = pageHeading(t("common.loading"));
  const loadError = messageBox("patient-error", "error");
  const header = h("section", { id: "patient-header", class: "panel patient-header", "aria-labelledby": "page-title" });
  const chartSlot = h("div", { id: "dose-chart-slot", class: "chart-slot" }, h("p", { class: "muted" }, t("common.loading")));
  const ordersBody = h("tbody");
  const ordersStatus = messageBox("orders-status", "info");
  const ordersError = messageBox("orders-error", "error");
  const currentOrder = h("p", { id: "current-order", class: "current-order" });
  const ecgBody = h("tbody");
  const dosesBody = h("tbody");
  const dosesError = messageBox("doses-error", "error");
  const photo = photoFrame("patient-photo", { large: true });
  let patient = null;
  let orders = [];
  let statusSelect = null; // set by statusSection()

  container.classList.add("page-patient");
  container.append(
    h("div", { class: "page-head" }, heading, h("p", { class: "back-link" }, h("a", { href: "#/patients", id: "back-to-patients" }, t("patient.back")))),
    loadError.el,
    header,
    h(
      "section",
      { class: "panel", "aria-labelledby": "chart-heading", id: "chart-section" },
      h("h2", { id: "chart-heading" }, t("chart.heading", { days: CHART_DAYS })),
      chartSlot,
    ),
    h(
      "section",
      { "aria-labelledby": "doses-heading", id: "doses-section" },
      h("h2", { id: "doses-heading" }, t("doses.heading", { days: CHART_DAYS })),
      h("p", { class: "hint" }, t("doses.intro")),
      dosesError.el,
      dataTable(
        "doses-table",
        [t("doses.given_at"), t("doses.mg"), t("doses.site"), t("doses.nurse"), t("common.status"), t("common.actions")],
        dosesBody,
      ),
    ),
    h(
      "div",
      { class: "two-columns" },
      h(
        "section",
        { class: "panel", "aria-labelledby": "order-heading", id: "order-section" },
        h("h2", { id: "order-heading" }, t("order.heading")),
        currentOrder,
        orderForm(),
      ),
      h(
        "div",
        { class: "side-stack" },
        ecgSection(),
        statusSection(),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "orders-heading", id: "orders-section" },
      h("h2", { id: "orders-heading" }, t("order.history")),
      ordersError.el,
      ordersStatus.el,
      dataTable(
        "orders-table",
        [
          t("order.created_at"), t("order.daily_mg"), t("order.phase"), t("order.period"), t("order.effective_from"),
          t("common.status"), t("order.prescriber"), t("order.approved_by"), t("order.reason"),
        ],
        ordersBody,
      ),
    ),
  );

  // Drug tests and alerts: self-contained sections (tests-view.js, alert-view.js); a new
  // test result may open or close an alert.
  const alertsSection = patientAlertsSection(patientId);
  container.append(h("div", { class: "two-columns", id: "tests-alerts" }, patientTestsSection(patientId, { onRecorded: () => alertsSection.load() }), alertsSection.el));
  container.append(patientHomeVisitSection(patientId).el);

  // ── Patient header ────────────────────────────────────────────────────────────
  async function loadPatient() {
    try {
      const [loaded, sites] = await Promise.all([api.get(base), loadSites().catch(() => [])]);
      patient = loaded;
      renderHeader(sites);
    } catch (error) {
      heading.textContent = t("nav.patients");
      loadError.showError(error);
      header.hidden = true;
    }
  }

  function renderHeader(sites) {
    heading.textContent = patient.name;
    heading.dataset.patientNo = patient.patient_no;
    const siteName = sites.find((site) => site.id === patient.home_site_id)?.name ?? patient.home_site_id;
    const item = (key, value, id) => h("div", { class: "fact" }, h("dt", {}, t(key)), h("dd", { id }, value ?? t("common.empty_value")));
    const printButton = h("button", { type: "button", id: "print-card", class: "button-secondary" }, t("patient.print_card"));
    const printLink = h("a", { id: "print-card-link", target: "_blank", rel: "noopener", hidden: true }, t("registers.open_pdf"));
    const printError = messageBox("print-card-error", "error");
    const historyButton = h("button", { type: "button", id: "print-dose-history", class: "button-secondary" }, t("patient.print_dose_history"));
    historyButton.addEventListener("click", async () => {
      printError.clear();
      try {
        await whileBusy(historyButton, t("common.loading"), () => openPdf(`/reports/dose-history.pdf?patient_id=${encodeURIComponent(patient.id)}`, printLink));
      } catch (error) {
        printError.showError(error);
      }
    });
    printButton.addEventListener("click", async () => {
      printError.clear();
      try {
        await whileBusy(printButton, t("common.loading"), () => openPdf(`/reports/patient-card.pdf?patient_id=${encodeURIComponent(patient.id)}`, printLink));
      } catch (error) {
        printError.showError(error);
      }
    });

    const file = h("input", { type: "file", id: "photo-file", accept: PHOTO_TYPES.join(",") });
    const upload = h("button", { type: "submit", id: "photo-upload", class: "button-secondary" }, t("photo.upload"));
    const photoMessage = messageBox("photo-error", "error");
    const photoStatus = messageBox("photo-status", "status");
    const photoForm = h(
      "form",
      {
        id: "photo-form",
        class: "photo-form",
        onsubmit: async (event) => {
          event.preventDefault();
          photoMessage.clear();
          photoStatus.clear();
          const chosen = file.files[0];
          if (!chosen) return file.focus();
          const problem = photoProblem(chosen) ?? (await whileBusy(upload, t("photo.uploading"), () => uploadPhoto(patient.id, chosen)));
          if (problem) return photoMessage.show(problem);
          patient.has_photo = true;
          photo.show(patient.id, true, patient.name);
          photoStatus.show(t("photo.uploaded"));
          file.value = "";
        },
      },
      h("label", { for: "photo-file" }, t(patient.has_photo ? "photo.replace" : "photo.add")),
      file,
      upload,
      photoMessage.el,
      photoStatus.el,
    );

    header.replaceChildren(
      photo.el,
      h(
        "div",
        { class: "patient-facts" },
        h(
          "p",
          { class: "patient-badges" },
          h("span", { class: "patient-no", id: "patient-no" }, patient.patient_no),
          h("span", { class: patient.status === "active" ? "badge ok" : "badge blocked", id: "patient-status", "data-status": patient.status }, codeLabel("patient_status", patient.status)),
          h("span", {}, sexAge(patient)),
        ),
        h(
          "dl",
          { class: "facts" },
          item("patient.id_number", patient.id_number, "patient-id-number"),
          item("patient.birth_date", patient.birth_date),
          item("patient.phone", patient.phone || null),
          item("patient.address", patient.address || null),
          item("patient.township", patient.township),
          item("patient.home_site", siteName),
          item("patient.enrolled_on", patient.enrolled_on),
          item("patient.risk_level", codeLabel("risk", patient.risk_level)),
          item("patient.consent_short", t(patient.consent_to_share ? "common.yes" : "common.no")),
        ),
      ),
      h("div", { class: "header-actions" }, printButton, historyButton, printLink, printError.el, photoForm),
    );
    photo.show(patient.id, patient.has_photo, patient.name);
    syncStatusChoices();
  }

  // ── Chart ─────────────────────────────────────────────────────────────────────
  async function loadChart() {
    const to = todayIso();
    const from = addDays(to, -(CHART_DAYS - 1));
    try {
      const rows = await api.get(`${base}/attendance?from=${from}&to=${to}`);
      chartSlot.replaceChildren(doseChart(rows, { from, to }));
    } catch (error) {
      chartSlot.replaceChildren(h("p", { class: "message message-error", role: "alert", id: "dose-chart-error" }, errorText(error)));
    }
  }

  // ── Doses, reversals and late corrections ───────────────────────────────────
  function doseState(dose) {
    const lines = [];
    const late = dose.late_correction;
    if (dose.reversal) {
      lines.push(h("span", { class: `badge reversal-${dose.reversal.status}` }, codeLabel("reversal_status", dose.reversal.status)));
      lines.push(h("span", { class: "muted" }, t("doses.reason", { reason: dose.reversal.reason })));
    }
    if (late) {
      lines.push(h("span", { class: `badge correction-${late.status}` }, codeLabel("correction_status", late.status)));
      lines.push(
        h(
          "span",
          { class: "muted correction-detail" },
          late.status === "confirmed"
            ? t("correction.detail_confirmed", {
              reason: late.reason,
              by: late.requested_by_name ?? "",
              doctor: late.confirmed_by_name ?? "",
              date: localDay(late.confirmed_at),
            })
            : t("correction.detail_pending", { reason: late.reason, by: late.requested_by_name ?? "", date: localDay(late.requested_at) }),
        ),
      );
    }
    if (!lines.length) lines.push(h("span", {}, t("doses.counts")));
    return lines.flatMap((line, i) => (i ? [h("br"), line] : [line]));
  }

  function doseAction(dose) {
    const late = dose.late_correction;
    const prefix = `dose-${dose.id}`;
    if (late?.status === "pending") {
      if (late.requested_by === user?.id) return h("span", { class: "muted" }, t("correction.awaiting_other"));
      return lateCorrectionConfirm(dose.id, { idPrefix: `${prefix}-confirm`, onConfirmed: () => Promise.all([loadDoses(), loadChart()]) });
    }
    const reversed = dose.reversal?.status === "confirmed";
    if (!late && !reversed && dose.correction === "late_correction") {
      return lateCorrectionRequest(dose.id, { idPrefix: `${prefix}-late`, onRequested: () => loadDoses() });
    }
    return null;
  }

  async function loadDoses() {
    const to = todayIso();
    const from = addDays(to, -(CHART_DAYS - 1));
    try {
      const doses = await api.get(`${base}/doses?from=${from}&to=${to}`);
      dosesError.clear();
      doses.reverse();
      dosesBody.replaceChildren(
        ...(doses.length
          ? doses.map((dose) =>
            h(
              "tr",
              {
                "data-dose-id": dose.id,
                "data-dose-day": dose.dose_day,
                "data-counts": String(dose.counts),
                class: dose.counts ? "dose-row" : "dose-row not-counted",
              },
              h("td", { class: "nowrap" }, dose.dose_day, " ", formatTime(dose.given_at)),
              h("td", { class: "num nowrap" }, formatMg(dose.dose_mg)),
              h("td", { class: "nowrap" }, dose.site_name ?? t("common.empty_value")),
              h("td", {}, dose.nurse_name ?? t("common.empty_value")),
              h("td", { class: "dose-state" }, ...doseState(dose)),
              h("td", { class: "actions" }, doseAction(dose)),
            ))
          : [h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("doses.none")))]),
      );
    } catch (error) {
      dosesBody.replaceChildren();
      dosesError.showError(error);
    }
  }

  // ── Orders ────────────────────────────────────────────────────────────────────
  const orderStatusBadge = (status) =>
    h("span", { class: `badge order-${status}`, "data-order-status": status }, codeLabel("order_status", status));
  const dailyText = (order) =>
    order.portions_mg?.length === 2
      ? t("order.daily_split", { mg: formatMg(order.daily_mg), a: mgNumber(order.portions_mg[0]), b: mgNumber(order.portions_mg[1]) })
      : formatMg(order.daily_mg);

  async function loadOrders() {
    try {
      orders = await api.get(`${base}/orders`);
      ordersError.clear();
      ordersBody.replaceChildren(
        ...orders.map((order) =>
          h(
            "tr",
            { "data-order-id": order.id, "data-status": order.status },
            h("td", { class: "nowrap" }, localDay(order.created_at), h("br"), h("span", { class: "muted" }, formatTime(order.created_at))),
            h("td", { class: "num" }, dailyText(order)),
            h("td", {}, codeLabel("phase", order.phase), order.starts_episode ? h("span", { class: "badge episode" }, t("order.new_episode")) : null),
            h("td", { class: "nowrap" }, order.end_date ? t("order.period_range", { from: order.start_date, to: order.end_date }) : t("order.period_open", { from: order.start_date })),
            h("td", { class: "nowrap" }, order.effective_from ?? t("common.empty_value")),
            h("td", {}, orderStatusBadge(order.status)),
            h("td", {}, order.prescriber_name ?? t("common.empty_value")),
            h("td", {}, order.approved_by_name ?? t("common.empty_value")),
            h("td", { class: "summary" }, order.reason),
          ),
        ),
      );
      ordersStatus.show(orders.length ? "" : t("order.none"));
      const current = orders.find((order) => order.status === "active");
      const pending = orders.filter((order) => order.status === "pending_approval");
      currentOrder.replaceChildren(
        ...[
          current
          ? t("order.current", { daily: dailyText(current), phase: codeLabel("phase", current.phase), from: current.effective_from ?? current.start_date })
          : t("order.no_current"),
          pending.length ? h("span", { class: "badge order-pending_approval" }, t("order.pending_count", { n: pending.length })) : null,
        ].filter(Boolean),
      );
      const phase = document.getElementById("order-phase");
      if (phase && !phase.dataset.touched) {
        phase.value = orders.length ? "maintenance" : "induction";
        phase.dispatchEvent(new Event("change"));
      }
    } catch (error) {
      ordersBody.replaceChildren();
      ordersError.showError(error);
    }
  }

  function orderForm() {
    const num = (name) => h("input", { type: "text", name, inputmode: "decimal", autocomplete: "off" });
    const daily = num("daily_mg");
    const split = h("input", { type: "checkbox", id: "order-split", name: "split" });
    const portion1 = num("portion_1");
    const portion2 = num("portion_2");
    const splitSum = h("p", { id: "order-split-sum", class: "hint", role: "status" });
    const start = h("input", { type: "date", name: "start_date", required: true, value: todayIso() });
    const end = h("input", { type: "date", name: "end_date" });
    const phase = h("select", { name: "phase" }, PHASES.map((value) => h("option", { value }, codeLabel("phase", value))));
    const reason = h("input", { type: "text", name: "reason", required: true, autocomplete: "off" });
    const override = h("input", { type: "text", name: "override_reason", autocomplete: "off" });
    const transferFrom = h("input", { type: "text", name: "transfer_from", autocomplete: "off" });
    const lastDoseOn = h("input", { type: "date", name: "last_dose_on", max: todayIso() });
    const submit = h("button", { type: "submit", id: "order-submit", class: "button-primary" }, t("order.submit"));
    const error = h("div", { id: "order-error", class: "message message-error order-error", role: "alert" });
    const result = h("div", { id: "order-result", class: "message message-status order-result", role: "status" });

    const portions = h(
      "div",
      { class: "portions", id: "order-portions", hidden: true },
      field("order-portion-1", t("order.portion_1"), portion1),
      field("order-portion-2", t("order.portion_2"), portion2),
      splitSum,
    );
    const transferFields = h(
      "div",
      { class: "transfer-fields", id: "order-transfer-fields", hidden: true },
      field("order-transfer-from", t("order.transfer_from"), transferFrom),
      field("order-last-dose-on", t("order.last_dose_on"), lastDoseOn, t("order.last_dose_on_hint")),
    );

    function syncSplit() {
      portions.hidden = !split.checked;
      const a = parseMg(portion1.value);
      const b = parseMg(portion2.value);
      const total = parseMg(daily.value);
      if (split.checked && a !== null && b !== null) {
        const sum = Math.round((a + b) * 10) / 10;
        splitSum.textContent = t(total !== null && sum !== total ? "order.split_mismatch" : "order.split_sum", { sum: formatMg(sum), daily: formatMg(total) });
        splitSum.className = total !== null && sum !== total ? "hint bad" : "hint";
      } else {
        splitSum.textContent = "";
      }
    }
    function syncPhase() {
      transferFields.hidden = phase.value !== "transfer";
      transferFrom.required = lastDoseOn.required = phase.value === "transfer";
    }
    split.addEventListener("change", () => {
      syncSplit();
      if (split.checked && !portion1.value && !portion2.value) {
        const total = parseMg(daily.value);
        if (total !== null) {
          // A first guess the doctor can change: two equal halves (the first takes the odd 0.5).
          const second = Math.floor(total * 5) / 10;
          portion1.value = mgNumber(Math.round((total - second) * 10) / 10);
          portion2.value = mgNumber(second);
          syncSplit();
        }
        portion1.focus();
      }
    });
    phase.addEventListener("change", (event) => {
      if (event.isTrusted) phase.dataset.touched = "true";
      syncPhase();
    });
    for (const input of [daily, portion1, portion2]) input.addEventListener("input", syncSplit);

    function showError(code, nodes, focusEl) {
      result.replaceChildren();
      delete result.dataset.status;
      error.dataset.code = code;
      error.replaceChildren(...nodes);
      focusEl?.focus();
    }

    async function onSubmit(event) {
      event.preventDefault();
      error.replaceChildren();
      delete error.dataset.code;
      const dailyMg = parseMg(daily.value);
      if (dailyMg === null || dailyMg <= 0) return showError("validation_failed", ruleMessage("validation_failed", t("order.daily_invalid")), daily);
      const body = { daily_mg: dailyMg, start_date: start.value, phase: phase.value, reason: reason.value.trim() };
      if (split.checked) {
        const a = parseMg(portion1.value);
        const b = parseMg(portion2.value);
        if (a === null || b === null || a <= 0 || b <= 0) return showError("validation_failed", ruleMessage("validation_failed", t("order.portions_invalid")), a === null || a <= 0 ? portion1 : portion2);
        body.portions_mg = [a, b];
      }
      if (end.value) body.end_date = end.value;
      if (override.value.trim()) body.override_reason = override.value.trim();
      if (phase.value === "transfer") {
        body.transfer_from = transferFrom.value.trim();
        body.last_dose_on = lastDoseOn.value;
      }
      let order;
      try {
        order = await whileBusy(submit, t("common.saving"), () => api.post(`${base}/orders`, body));
      } catch (err) {
        const controls = { daily_mg: daily, portions_mg: portion1, start_date: start, end_date: end, phase, reason, override_reason: override, transfer_from: transferFrom, last_dose_on: lastDoseOn };
        if (err.code === "network_error" || err.code === "unexpected_response" || err.code === "unauthenticated") showError(err.code, [errorText(err)]);
        else showError(err.code, ruleMessage(err.code, err.message, err.details), controls[err.details?.field]);
        return;
      }
      const pending = order.status === "pending_approval";
      result.dataset.status = order.status;
      result.replaceChildren(
        ...[
        h(
          "p",
          {},
          pending
            ? t("order.created_pending", { daily: dailyText(order), from: order.start_date })
            : t("order.created", { daily: dailyText(order), from: order.effective_from ?? order.start_date }),
          " ",
          orderStatusBadge(order.status),
        ),
        pending ? h("p", { class: "pending-note", id: "order-pending" }, t("order.pending_second_doctor")) : null,
        order.warnings?.length
          ? h(
              "ul",
              { class: "warnings", id: "order-warnings" },
              order.warnings.map((warning) => h("li", { "data-warning": warning.code }, ...ruleMessage(warning.code, warning.message, warning.details))),
            )
          : null,
        ].filter(Boolean),
      );
      for (const input of [daily, portion1, portion2, end, reason, override, transferFrom, lastDoseOn]) input.value = "";
      split.checked = false;
      phase.dataset.touched = "";
      syncSplit();
      await Promise.all([loadOrders(), loadChart()]);
    }

    const form = h(
      "form",
      { id: "order-form", class: "form-grid order-form", onsubmit: onSubmit },
      field("order-daily-mg", t("order.daily_mg"), daily),
      h("div", { class: "field split-field" }, h("label", { class: "checkbox", for: "order-split" }, split, t("order.split"))),
      portions,
      field("order-start-date", t("order.start_date"), start),
      field("order-end-date", t("order.end_date_optional"), end),
      field("order-phase", t("order.phase"), phase),
      field("order-reason", t("order.reason"), reason),
      field("order-override-reason", t("order.override_reason"), override, t("order.override_hint")),
      transferFields,
      h("div", { class: "form-actions" }, submit, error),
      result,
    );
    syncSplit();
    syncPhase();
    return form;
  }

  // ── ECGs ──────────────────────────────────────────────────────────────────────
  function ecgSection() {
    const takenOn = h("input", { type: "date", name: "taken_on", required: true, value: todayIso(), max: todayIso() });
    const qtc = h("input", { type: "text", name: "qtc_ms", required: true, inputmode: "numeric", autocomplete: "off" });
    const submit = h("button", { type: "submit", id: "ecg-submit", class: "button-primary" }, t("ecg.submit"));
    const error = messageBox("ecg-error", "error");
    const status = messageBox("ecg-status", "status");
    async function onSubmit(event) {
      event.preventDefault();
      error.clear();
      status.clear();
      const ms = Number(qtc.value.trim());
      if (!Number.isInteger(ms) || ms < 200 || ms > 800) {
        error.show(t("ecg.qtc_invalid"));
        return qtc.focus();
      }
      try {
        await whileBusy(submit, t("common.saving"), () => api.post(`${base}/ecgs`, { taken_on: takenOn.value, qtc_ms: ms }));
        status.show(t("ecg.saved", { ms, date: takenOn.value }));
        qtc.value = "";
        await loadEcgs();
      } catch (err) {
        error.el.dataset.code = err.code;
        error.showError(err);
      }
    }
    return h(
      "section",
      { class: "panel", "aria-labelledby": "ecg-heading", id: "ecg-section" },
      h("h2", { id: "ecg-heading" }, t("ecg.heading")),
      h(
        "form",
        { id: "ecg-form", class: "form-grid compact", onsubmit: onSubmit },
        field("ecg-taken-on", t("ecg.taken_on"), takenOn),
        field("ecg-qtc", t("ecg.qtc_ms"), qtc),
        h("div", { class: "form-actions" }, submit, error.el, status.el),
      ),
      dataTable("ecg-table", [t("ecg.taken_on"), t("ecg.qtc_ms")], ecgBody),
    );
  }

  async function loadEcgs() {
    try {
      const ecgs = await api.get(`${base}/ecgs`);
      ecgs.sort((a, b) => (a.taken_on < b.taken_on ? 1 : a.taken_on > b.taken_on ? -1 : 0));
      ecgBody.replaceChildren(
        ...(ecgs.length
          ? ecgs.map((ecg) => {
              const level = ecg.qtc_ms >= 500 ? "qtc-high" : ecg.qtc_ms >= 450 ? "qtc-warn" : "qtc-ok";
              return h(
                "tr",
                { "data-taken-on": ecg.taken_on },
                h("td", {}, ecg.taken_on),
                h("td", { class: `num ${level}` }, t("ecg.ms", { ms: ecg.qtc_ms }), level !== "qtc-ok" ? h("span", { class: "qtc-note" }, t(`ecg.${level}`)) : null),
              );
            })
          : [h("tr", {}, h("td", { colspan: 2, class: "muted" }, t("ecg.none")))]),
      );
    } catch (error) {
      ecgBody.replaceChildren(h("tr", {}, h("td", { colspan: 2, class: "message message-error" }, errorText(error))));
    }
  }

  // ── Status ────────────────────────────────────────────────────────────────────
  function syncStatusChoices() {
    if (!statusSelect || !patient) return;
    for (const option of statusSelect.options) option.disabled = option.value === patient.status;
    if (statusSelect.value === patient.status) statusSelect.value = STATUSES.find((s) => s !== patient.status);
  }
  function statusSection() {
    statusSelect = h("select", { name: "status" }, STATUSES.map((value) => h("option", { value }, codeLabel("patient_status", value))));
    const reason = h("input", { type: "text", name: "reason", required: true, autocomplete: "off" });
    const submit = h("button", { type: "submit", id: "status-submit", class: "button-secondary" }, t("status.submit"));
    const error = messageBox("status-error", "error");
    const status = messageBox("status-result", "status");
    async function onSubmit(event) {
      event.preventDefault();
      error.clear();
      status.clear();
      const body = { status: statusSelect.value, reason: reason.value.trim() };
      try {
        await whileBusy(submit, t("common.saving"), () => api.post(`${base}/status`, body));
        status.show(t("status.changed", { status: codeLabel("patient_status", body.status) }));
        reason.value = "";
        await loadPatient();
      } catch (err) {
        error.el.dataset.code = err.code;
        error.showError(err);
      }
    }
    return h(
      "section",
      { class: "panel", "aria-labelledby": "status-heading", id: "status-section" },
      h("h2", { id: "status-heading" }, t("status.heading")),
      h(
        "form",
        { id: "status-form", class: "form-grid compact", onsubmit: onSubmit },
        field("status-value", t("status.new_status"), statusSelect),
        field("status-reason", t("status.reason"), reason),
        h("div", { class: "form-actions" }, submit, error.el, status.el),
      ),
    );
  }

  loadPatient();
  loadChart();
  loadDoses();
  loadOrders();
  loadEcgs();
}
