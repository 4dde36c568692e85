// Attendance as a strip of small coloured cells, one per day (oldest first), for the rehab
// worker's cases: no doses in mg, only whether the patient came.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { addDays, codeLabel } from "./ui.js";

/** Every attendance status the server sends, in legend order. */
export const ATTENDANCE_STATUSES = ["dosed", "home_visit", "missed", "excused", "withheld", "no_order", "due"];

/**
 * attendanceStrip(rows, { from, to, id }) → a <figure> holding div.att-strip (id `id`) of
 * one span.att-cell[data-date][data-status] per day, each with a title "date · status",
 * and a one-line summary.
 */
export function attendanceStrip(rows, { from, to, id }) {
  const byDate = new Map(rows.map((row) => [row.date, row.status]));
  const cells = [];
  const counts = Object.fromEntries(ATTENDANCE_STATUSES.map((status) => [status, 0]));
  for (let date = from; date <= to; date = addDays(date, 1)) {
    const status = byDate.get(date) ?? null;
    if (status in counts) counts[status]++;
    const label = `${date} · ${status ? codeLabel("attendance", status) : t("chart.no_data")}`;
    cells.push(h("span", { class: `att-cell att-${status ?? "none"}`, "data-date": date, "data-status": status ?? "none", title: label }));
  }
  const summary = t("strip.summary", {
    days: cells.length,
    dosed: counts.dosed + counts.home_visit,
    home: counts.home_visit,
    missed: counts.missed,
    withheld: counts.withheld,
    excused: counts.excused,
  });
  const summaryId = `${id}-summary`;
  const strip = h(
    "div",
    { id, class: "att-strip", role: "img", "aria-label": t("strip.title", { days: cells.length }), "aria-describedby": summaryId, "data-days": cells.length, "data-from": from, "data-to": to },
    cells,
  );
  // Through the CSSOM: the Content-Security-Policy refuses style attributes.
  strip.style.setProperty("--days", String(cells.length));
  return h(
    "figure",
    { class: "att-figure" },
    strip,
    h("div", { class: "att-scale", "aria-hidden": "true" }, h("span", {}, from), h("span", {}, to)),
    h("figcaption", { id: summaryId, class: "chart-summary" }, summary),
  );
}

/** The key to the strip's colours (ul#`id`); one per page is enough. */
export function attendanceLegend(id) {
  return h(
    "ul",
    { class: "chart-legend att-legend", id },
    ATTENDANCE_STATUSES.map((status) =>
      h("li", {}, h("span", { class: `att-cell att-${status}`, "aria-hidden": "true" }), codeLabel("attendance", status)),
    ),
    h("li", {}, h("span", { class: "att-cell att-none", "aria-hidden": "true" }), t("chart.no_data")),
  );
}
