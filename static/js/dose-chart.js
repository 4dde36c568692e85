// The patient's doses per day as an inline SVG: bars for what was given, a step line for
// what was ordered, and ticks under the axis for missed (red), excused (grey) and
// withheld (orange) days. Drawn here, no chart library; text only via textContent.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { addDays, formatMg, mgNumber, codeLabel } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 1000;
const HEIGHT = 250;
const M = { top: 24, right: 14, bottom: 44, left: 46 };
const TICKED = { missed: "tick-missed", excused: "tick-excused", withheld: "tick-withheld" };

/** An SVG element; like h() but in the SVG namespace and without event handlers. */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A round top for the y axis and the step between its labels. */
function scale(max) {
  const step = max <= 60 ? 10 : max <= 140 ? 20 : 50;
  return { top: Math.max(step * 2, Math.ceil(max / step) * step), step };
}

/** Every day from `from` to `to` with its attendance row (or none). */
function days(rows, from, to) {
  const byDate = new Map(rows.map((row) => [row.date, row]));
  const out = [];
  for (let date = from; date <= to; date = addDays(date, 1)) out.push({ date, ...(byDate.get(date) ?? { status: null }) });
  return out;
}

/**
 * doseChart(rows, { from, to }) → a <figure> holding svg#dose-chart, its legend and a
 * one-line summary (#dose-chart-summary) for screen readers and a quick read.
 */
export function doseChart(rows, { from, to }) {
  const series = days(rows, from, to);
  const n = series.length;
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const slot = plotW / n;
  const barW = Math.max(2, slot * 0.7);
  const values = series.flatMap((day) => [day.dose_mg, day.ordered_mg]).filter((v) => typeof v === "number");
  const { top, step } = scale(Math.max(40, ...values));
  const x = (i) => M.left + i * slot;
  const y = (mg) => M.top + plotH - (mg / top) * plotH;
  const baseY = M.top + plotH;

  const grid = [];
  for (let mg = 0; mg <= top; mg += step) {
    grid.push(
      s("line", { class: mg === 0 ? "axis" : "grid", x1: M.left, x2: WIDTH - M.right, y1: y(mg), y2: y(mg) }),
      s("text", { class: "y-label", x: M.left - 6, y: y(mg) + 4, "text-anchor": "end" }, mgNumber(mg)),
    );
  }
  grid.push(s("text", { class: "y-unit", x: M.left - 6, y: 12, "text-anchor": "end" }, "mg"));

  const bars = [];
  const ticks = [];
  series.forEach((day, i) => {
    const label = [
      day.date,
      day.status ? codeLabel("attendance", day.status) : t("chart.no_data"),
      typeof day.dose_mg === "number" ? t("chart.given", { mg: formatMg(day.dose_mg) }) : null,
      typeof day.ordered_mg === "number" ? t("chart.ordered", { mg: formatMg(day.ordered_mg) }) : null,
    ]
      .filter(Boolean)
      .join(t("common.list_separator"));
    if (typeof day.dose_mg === "number" && day.dose_mg > 0) {
      bars.push(
        s(
          "rect",
          {
            class: day.status === "home_visit" ? "bar bar-home" : "bar",
            x: (x(i) + (slot - barW) / 2).toFixed(2),
            y: y(day.dose_mg).toFixed(2),
            width: barW.toFixed(2),
            height: (baseY - y(day.dose_mg)).toFixed(2),
            "data-date": day.date,
            "data-mg": day.dose_mg,
          },
          s("title", {}, label),
        ),
      );
    }
    const tick = TICKED[day.status];
    if (tick) {
      ticks.push(
        s(
          "rect",
          { class: `tick ${tick}`, x: (x(i) + (slot - barW) / 2).toFixed(2), y: baseY + 3, width: barW.toFixed(2), height: 9, "data-date": day.date, "data-status": day.status },
          s("title", {}, label),
        ),
      );
    }
  });

  // The ordered dose as a step line: flat across each day, vertical where it changes,
  // broken on days without an order.
  let path = "";
  let previous = null;
  series.forEach((day, i) => {
    const mg = typeof day.ordered_mg === "number" ? day.ordered_mg : null;
    if (mg === null) {
      previous = null;
      return;
    }
    const yy = y(mg).toFixed(2);
    path += previous === null ? `M${x(i).toFixed(2)},${yy}` : `L${x(i).toFixed(2)},${yy}`;
    path += `L${x(i + 1).toFixed(2)},${yy}`;
    previous = mg;
  });

  // Date labels every 14 days, counted back from the last day so that today is labelled.
  const labels = [];
  for (let i = n - 1; i >= 0; i -= 14) {
    const cx = x(i) + slot / 2;
    labels.push(
      s("line", { class: "x-tick", x1: cx, x2: cx, y1: baseY + 14, y2: baseY + 19 }),
      s("text", { class: "x-label", x: cx, y: HEIGHT - 8, "text-anchor": i === n - 1 ? "end" : "middle" }, series[i].date.slice(5)),
    );
  }

  const counts = { dosed: 0, home_visit: 0, missed: 0, excused: 0, withheld: 0 };
  for (const day of series) if (day.status in counts) counts[day.status]++;
  const lastOrdered = [...series].reverse().find((day) => typeof day.ordered_mg === "number")?.ordered_mg;
  const summary = t("chart.summary", {
    days: n,
    dosed: counts.dosed + counts.home_visit,
    home: counts.home_visit,
    missed: counts.missed,
    withheld: counts.withheld,
    excused: counts.excused,
    order: lastOrdered === undefined ? t("common.empty_value") : formatMg(lastOrdered),
  });

  const svg = s(
    "svg",
    {
      id: "dose-chart",
      class: "dose-chart",
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-labelledby": "dose-chart-title dose-chart-summary",
      "data-days": n,
      "data-from": from,
      "data-to": to,
    },
    s("title", { id: "dose-chart-title" }, t("chart.title", { days: n })),
    grid,
    bars,
    path ? s("path", { class: "order-line", d: path }) : null,
    ticks,
    labels,
    values.length === 0 && !ticks.length
      ? s("text", { class: "chart-empty", x: M.left + plotW / 2, y: M.top + plotH / 2, "text-anchor": "middle" }, t("chart.empty"))
      : null,
  );

  const legend = h(
    "ul",
    { class: "chart-legend", id: "dose-chart-legend" },
    [
      ["swatch-bar", t("chart.legend_given")],
      ["swatch-home", t("chart.legend_home")],
      ["swatch-order", t("chart.legend_ordered")],
      ["swatch-missed", codeLabel("attendance", "missed")],
      ["swatch-withheld", codeLabel("attendance", "withheld")],
      ["swatch-excused", codeLabel("attendance", "excused")],
    ].map(([kind, text]) => h("li", {}, h("span", { class: `swatch ${kind}`, "aria-hidden": "true" }), text)),
  );

  return h("figure", { class: "chart" }, svg, legend, h("figcaption", { id: "dose-chart-summary", class: "chart-summary" }, summary));
}
