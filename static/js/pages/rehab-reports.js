// The rehab worker's paperwork: the monthly attendance sheet of a township (PDF to print,
// CSV for a spreadsheet) and the export of attendance and alerts for their own systems.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { pageHeading, field, messageBox, whileBusy, openPdf, downloadFile, todayIso, addDays } from "../ui.js";

const MONTH = /^\d{4}-\d{2}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const EXPORT_FORMATS = ["csv", "json"];

export function render(container, { user }) {
  container.append(pageHeading(t("nav.rehab-reports")), h("p", { class: "lead" }, t("page.rehab-reports.intro")), monthlySection(user), exportSection());
}

function monthlySection(user) {
  const thisMonth = todayIso().slice(0, 7);
  const townships = user.townships ?? [];
  const month = h("input", { type: "month", name: "month", required: true, value: thisMonth, max: thisMonth, placeholder: t("common.month_placeholder"), "data-autofocus": true });
  const township = h("select", { name: "township", required: true }, townships.map((name) => h("option", { value: name }, name)));
  const pdf = h("button", { type: "submit", id: "rehab-report-pdf", class: "button-primary" }, t("rehab_reports.pdf"));
  const csv = h("button", { type: "button", id: "rehab-report-csv", class: "button-secondary" }, t("rehab_reports.csv"));
  const pdfLink = h("a", { id: "rehab-report-pdf-link", target: "_blank", rel: "noopener", hidden: true }, t("registers.open_pdf"));
  const csvLink = h("a", { id: "rehab-report-csv-link", hidden: true }, t("rehab_reports.save_file"));
  const error = messageBox("rehab-report-error", "error");
  const status = messageBox("rehab-report-status", "status");

  /** The query of the sheet, or null (and the focus on what is missing). */
  function query() {
    error.clear();
    status.clear();
    if (!MONTH.test(month.value)) {
      error.show(t("rehab_reports.month_invalid"));
      month.focus();
      return null;
    }
    if (!township.value) {
      township.focus();
      return null;
    }
    return `month=${month.value}&township=${encodeURIComponent(township.value)}`;
  }

  async function onPdf(event) {
    event.preventDefault();
    const q = query();
    if (!q) return;
    try {
      await whileBusy(pdf, t("common.loading"), () => openPdf(`/reports/rehab-attendance.pdf?${q}`, pdfLink));
      status.show(t("rehab_reports.opened", { month: month.value, township: township.value }));
    } catch (err) {
      error.showError(err);
    }
  }

  csv.addEventListener("click", async () => {
    const q = query();
    if (!q) return;
    try {
      await whileBusy(csv, t("common.loading"), () => downloadFile(`/reports/rehab-attendance.csv?${q}`, `rehab-attendance-${month.value}-${township.value}.csv`, csvLink));
      status.show(t("rehab_reports.saved", { month: month.value, township: township.value }));
    } catch (err) {
      error.showError(err);
    }
  });

  return h(
    "section",
    { class: "panel", id: "rehab-report-section", "aria-labelledby": "rehab-report-heading" },
    h("h2", { id: "rehab-report-heading" }, t("rehab_reports.monthly_heading")),
    townships.length
      ? h(
          "form",
          { id: "rehab-report-form", class: "form-grid", onsubmit: onPdf },
          field("rehab-report-month", t("rehab_reports.month"), month),
          field("rehab-report-township", t("patient.township"), township),
          h("div", { class: "form-actions" }, pdf, csv, pdfLink, csvLink, error.el, status.el),
        )
      : h("p", { class: "notice blocked", id: "rehab-report-no-townships" }, t("rehab_reports.no_townships")),
  );
}

function exportSection() {
  const today = todayIso();
  const from = h("input", { type: "date", name: "from", required: true, value: addDays(today, -29), max: today });
  const to = h("input", { type: "date", name: "to", required: true, value: today, max: today });
  const format = h("select", { name: "format" }, EXPORT_FORMATS.map((value) => h("option", { value }, t(`rehab_reports.format_${value}`))));
  const submit = h("button", { type: "submit", id: "rehab-export-submit", class: "button-primary" }, t("rehab_reports.export"));
  const link = h("a", { id: "rehab-export-link", hidden: true }, t("rehab_reports.save_file"));
  const error = messageBox("rehab-export-error", "error");
  const status = messageBox("rehab-export-status", "status");

  async function onSubmit(event) {
    event.preventDefault();
    error.clear();
    status.clear();
    if (!DAY.test(from.value)) return from.focus();
    if (!DAY.test(to.value)) return to.focus();
    if (from.value > to.value) {
      error.show(t("rehab_reports.range_invalid"));
      return from.focus();
    }
    const path = `/rehab/export?format=${format.value}&from=${from.value}&to=${to.value}`;
    try {
      await whileBusy(submit, t("common.loading"), () => downloadFile(path, `rehab-export-${from.value}-${to.value}.${format.value}`, link));
      status.show(t("rehab_reports.exported", { from: from.value, to: to.value }));
    } catch (err) {
      error.showError(err);
    }
  }

  return h(
    "section",
    { class: "panel", id: "rehab-export-section", "aria-labelledby": "rehab-export-heading" },
    h("h2", { id: "rehab-export-heading" }, t("rehab_reports.export_heading")),
    h("p", { class: "hint" }, t("rehab_reports.export_hint")),
    h(
      "form",
      { id: "rehab-export-form", class: "form-grid", onsubmit: onSubmit },
      field("rehab-export-from", t("disclosures.from"), from),
      field("rehab-export-to", t("disclosures.to"), to),
      field("rehab-export-format", t("rehab_reports.format"), format),
      h("div", { class: "form-actions" }, submit, link, error.el, status.el),
    ),
  );
}
