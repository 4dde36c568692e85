// The doctor's reports: the monthly statistics of the network (PDF). A patient's dose
// card prints from the patient's page.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { pageHeading, field, messageBox, whileBusy, openPdf, todayIso } from "../ui.js";

export function render(container) {
  const thisMonth = todayIso().slice(0, 7);
  const month = h("input", { type: "month", name: "month", required: true, value: thisMonth, max: thisMonth, placeholder: t("common.month_placeholder"), "data-autofocus": true });
  const print = h("button", { type: "submit", id: "monthly-report-print", class: "button-primary" }, t("reports.monthly_print"));
  const link = h("a", { id: "monthly-report-link", target: "_blank", rel: "noopener", hidden: true }, t("registers.open_pdf"));
  const error = messageBox("monthly-report-error", "error");
  const status = messageBox("monthly-report-status", "status");

  async function onPrint(event) {
    event.preventDefault();
    error.clear();
    status.clear();
    if (!/^\d{4}-\d{2}$/.test(month.value)) {
      error.show(t("rehab_reports.month_invalid"));
      month.focus();
      return;
    }
    try {
      await whileBusy(print, t("common.loading"), () => openPdf(`/reports/monthly.pdf?month=${month.value}`, link));
      status.show(t("reports.monthly_opened", { month: month.value }));
    } catch (err) {
      error.showError(err);
    }
  }

  container.append(
    pageHeading(t("nav.reports")),
    h("p", { class: "lead" }, t("page.reports.intro")),
    h(
      "section",
      { class: "panel", id: "monthly-report-section", "aria-labelledby": "monthly-report-heading" },
      h("h2", { id: "monthly-report-heading" }, t("reports.monthly_heading")),
      h(
        "form",
        { id: "monthly-report-form", class: "form-grid", onsubmit: onPrint },
        field("monthly-report-month", t("rehab_reports.month"), month),
        h("div", { class: "form-actions" }, print, link, error.el, status.el),
      ),
    ),
    h("p", { class: "hint" }, t("reports.card_hint")),
  );
}
