// The site's controlled-substance ledger (专用账册) today: each product's balance with its
// concentration, entries waiting for my confirmation, transfers in transit, home-visit
// doses not yet back, a new entry, and the day close (a gap beyond the tolerance asks for
// an incident note). Only what the server would accept is offered.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api, currentUser } from "../api.js";
import { sitePicker, selectedSiteId, loadSites } from "../sites.js";
import { queuedDoses } from "../offline-store.js";
import {
  pageHeading, messageBox, whileBusy, codeLabel, showRefusal, openPdf, todayIso, addDays, formatTime, retryablePost,
} from "../ui.js";

const ML_ROWS = [
  "opening_ml",
  "received_ml",
  "transfer_in_ml",
  "dispensed_ml",
  "home_visit_out_ml",
  "home_visit_returned_ml",
  "waste_ml",
  "transfer_out_ml",
  "adjusted_ml",
  "expected_ml",
];

/** "60 mL（1 mg/mL）": a volume never without its concentration. */
export function mlWithConc(ml, product) {
  return t("stock.ml_conc", { ml: String(ml), conc: product?.concentration_label ?? "" });
}

function productCard(day) {
  const rows = ML_ROWS.map((key) =>
    h("tr", { "data-line": key }, h("th", { scope: "row" }, t(`stock.line.${key}`)), h("td", { class: "num" }, mlWithConc(day[key], day.product))),
  );
  if (day.closed) {
    rows.push(h("tr", { "data-line": "counted_ml" }, h("th", { scope: "row" }, t("stock.line.counted_ml")), h("td", { class: "num" }, mlWithConc(day.counted_ml, day.product))));
  }
  return h(
    "section",
    { class: "stock-product", "data-product": day.product.id },
    h(
      "h2",
      {},
      day.product.name,
      " ",
      h("span", { class: "badge conc" }, day.product.concentration_label),
      day.dispensing ? h("span", { class: "badge" }, t("stock.dispensing")) : null,
      day.closed ? h("span", { class: "badge state-closed", "data-closed": "true" }, t("stock.closed")) : null,
    ),
    day.went_negative ? h("p", { class: "notice blocked" }, t("stock.went_negative")) : null,
    h("table", { class: "data stock-lines" }, h("tbody", {}, rows)),
  );
}

function entryLine(entry, me, onConfirm, extra) {
  const canConfirm = entry.status === "pending" && entry.entered_by !== me.id;
  return h(
    "li",
    { class: "stock-entry", id: `entry-${entry.id}`, "data-kind": entry.kind },
    h("strong", {}, codeLabel("stock.kind", entry.kind)),
    " ",
    mlWithConc(entry.volume_ml, entry.product),
    ` · ${entry.product.name}`,
    entry.lot ? ` · ${t("stock.lot")} ${entry.lot}` : "",
    entry.counterpart_site_name ? ` · ${entry.counterpart_site_name}` : "",
    ` · ${entry.reason} · ${entry.entered_by_name ?? ""} ${formatTime(entry.entered_at)}`,
    canConfirm ? h("button", { type: "button", id: `confirm-entry-${entry.id}`, class: "button-primary", onclick: (e) => onConfirm(e.currentTarget, entry) }, t("stock.confirm")) : null,
    entry.status === "pending" && !canConfirm ? h("span", { class: "muted" }, ` ${t("stock.waiting_other")}`) : null,
    extra ?? null,
  );
}

export function render(container, { user }) {
  const me = user ?? currentUser();
  const date = todayIso();
  const status = messageBox("stock-status", "error");
  const postEntry = retryablePost("/stock/entries");
  const body = h("div", { id: "stock-body" });
  let page = null;

  const site = () => selectedSiteId();
  const run = async (button, work) => {
    status.clear();
    try {
      await whileBusy(button, t("common.loading"), work);
      await load();
    } catch (error) {
      showRefusal(status.el, error);
    }
  };

  // New entry.
  const kind = h("select", { id: "entry-kind" }, ["receipt", "transfer_out", "waste", "adjustment"].map((k) => h("option", { value: k }, codeLabel("stock.kind", k))));
  const product = h("select", { id: "entry-product" });
  const volume = h("input", { id: "entry-volume", type: "number", step: "0.01", inputmode: "decimal" });
  const lot = h("input", { id: "entry-lot", type: "text" });
  const supplier = h("input", { id: "entry-supplier", type: "text" });
  const counterpart = h("select", { id: "entry-counterpart" });
  const reason = h("input", { id: "entry-reason", type: "text" });
  const submit = h("button", { type: "submit", id: "entry-submit", class: "button-primary" }, t("stock.enter"));
  const lotRow = h("div", { class: "field" }, h("label", { for: "entry-lot" }, t("stock.lot")), lot, h("label", { for: "entry-supplier" }, t("stock.supplier")), supplier);
  const counterpartRow = h("div", { class: "field", hidden: true }, h("label", { for: "entry-counterpart" }, t("stock.counterpart")), counterpart);
  const syncKind = () => {
    lotRow.hidden = kind.value !== "receipt";
    counterpartRow.hidden = kind.value !== "transfer_out";
    volume.min = kind.value === "adjustment" ? "" : "0.01";
  };
  kind.addEventListener("change", syncKind);
  const entryForm = h(
    "form",
    { id: "entry-form", class: "stock-form" },
    h("h2", {}, t("stock.new_entry")),
    h("div", { class: "field" }, h("label", { for: "entry-kind" }, t("stock.kind_label")), kind),
    h("div", { class: "field" }, h("label", { for: "entry-product" }, t("stock.product")), product),
    h("div", { class: "field" }, h("label", { for: "entry-volume" }, t("stock.volume")), volume),
    lotRow,
    counterpartRow,
    h("div", { class: "field" }, h("label", { for: "entry-reason" }, t("stock.reason")), reason),
    h("p", { class: "hint" }, t("stock.two_person_hint")),
    submit,
  );
  entryForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const bodyJson = {
      site_id: site(),
      product_id: product.value,
      kind: kind.value,
      volume_ml: Number(volume.value),
      reason: reason.value,
      lot: kind.value === "receipt" ? lot.value || null : null,
      supplier: kind.value === "receipt" ? supplier.value || null : null,
      counterpart_site_id: kind.value === "transfer_out" ? counterpart.value : null,
    };
    run(submit, () => postEntry(bodyJson)).then(() => {
      if (!status.el.textContent) entryForm.reset();
      syncKind();
    });
  });

  // Day close.
  const closeProduct = h("select", { id: "close-product" });
  const counted = h("input", { id: "close-counted", type: "number", step: "0.01", min: "0", inputmode: "decimal" });
  const note = h("textarea", { id: "close-note", rows: 3 });
  const noteRow = h("div", { class: "field", id: "close-note-field", hidden: true }, h("label", { for: "close-note" }, t("stock.incident_note")), h("p", { class: "hint" }, t("stock.incident_hint")), note);
  const closeSubmit = h("button", { type: "submit", id: "close-submit", class: "button-primary" }, t("stock.close_day"));
  const gapLine = h("p", { id: "close-gap", class: "hint" });
  const expectedOf = () => page?.products.find((p) => p.product.id === closeProduct.value);
  const syncGap = () => {
    const day = expectedOf();
    if (!day || counted.value === "") {
      gapLine.textContent = "";
      return;
    }
    const gap = Math.round((Number(counted.value) - day.expected_ml) * 100) / 100;
    gapLine.textContent = t("stock.gap", { gap: String(gap), expected: mlWithConc(day.expected_ml, day.product) });
    if (Math.abs(gap) > page.close_tolerance_ml || day.went_negative) noteRow.hidden = false;
  };
  counted.addEventListener("input", syncGap);
  closeProduct.addEventListener("change", syncGap);
  const closeForm = h(
    "form",
    { id: "close-form", class: "stock-form" },
    h("h2", {}, t("stock.day_close")),
    h("div", { class: "field" }, h("label", { for: "close-product" }, t("stock.product")), closeProduct),
    h("div", { class: "field" }, h("label", { for: "close-counted" }, t("stock.counted")), counted),
    gapLine,
    noteRow,
    closeSubmit,
  );
  closeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.clear();
    // Doses this terminal gave offline and has not uploaded yet would be missing from the count.
    const waiting = (await queuedDoses().catch(() => [])).filter((item) => item.site_id === site()).length;
    if (waiting > 0) {
      status.show(t("offline.close_waits", { n: waiting }));
      return;
    }
    try {
      await whileBusy(closeSubmit, t("common.loading"), () =>
        api.post(`/sites/${encodeURIComponent(site())}/day-close`, {
          date,
          product_id: closeProduct.value,
          counted_ml: Number(counted.value),
          incident_note: note.value.trim() || null,
        }),
      );
      closeForm.reset();
      noteRow.hidden = true;
      gapLine.textContent = "";
      await load();
    } catch (error) {
      showRefusal(status.el, error);
      if (error.code === "stock_discrepancy") {
        noteRow.hidden = false;
        note.focus();
      }
    }
  });

  const ledgerButton = h("button", { type: "button", id: "print-ledger", class: "button-secondary" }, t("stock.print_ledger"));
  const ledgerLink = h("a", { id: "print-ledger-link", target: "_blank", rel: "noopener", hidden: true }, t("registers.open_pdf"));
  ledgerButton.addEventListener("click", () =>
    run(ledgerButton, () =>
      openPdf(`/reports/stock-ledger.pdf?site_id=${encodeURIComponent(site())}&from=${addDays(date, -30)}&to=${date}`, ledgerLink),
    ),
  );

  const confirmEntry = (button, entry) => run(button, () => api.post(`/stock/entries/${entry.id}/confirm`, {}));
  const receive = (button, transfer) =>
    run(button, () => postEntry({ site_id: site(), kind: "transfer_in", transfer_id: transfer.id, reason: t("stock.received_reason") }));
  const confirmClose = (button, close) => run(button, () => api.post(`/sites/${encodeURIComponent(site())}/day-close/${close.id}/confirm`, {}));

  async function load() {
    const id = site();
    if (!id) return;
    try {
      const [data, sites] = await Promise.all([api.get(`/sites/${encodeURIComponent(id)}/stock?date=${date}`), loadSites()]);
      page = data;
      const options = data.products.map((d) => h("option", { value: d.product.id }, `${d.product.name}（${d.product.concentration_label}）`));
      product.replaceChildren(...options.map((o) => o.cloneNode(true)));
      closeProduct.replaceChildren(...data.products.filter((d) => !d.closed).map((d) => h("option", { value: d.product.id }, `${d.product.name}（${d.product.concentration_label}）`)));
      counterpart.replaceChildren(...sites.filter((s) => s.active && s.id !== id).map((s) => h("option", { value: s.id }, s.name)));
      const sections = [h("div", { class: "stock-products", id: "stock-products" }, data.products.map(productCard))];
      if (!data.products.length) sections.push(h("p", { class: "notice" }, t("stock.no_products")));
      const pendingClose = data.pending_closes.map((c) => {
        const mine = c.requested_by === me.id;
        const prod = data.products.find((d) => d.product.id === c.product_id)?.product;
        return h(
          "li",
          { id: `close-${c.id}` },
          t("stock.close_line", { date: c.date, counted: mlWithConc(c.counted_ml, prod), expected: mlWithConc(c.expected_ml, prod), name: c.requested_by_name ?? "" }),
          c.incident_note ? h("p", { class: "notice" }, `${t("stock.incident_note")}: ${c.incident_note}`) : null,
          mine
            ? h("span", { class: "muted" }, ` ${t("stock.waiting_other")}`)
            : h("button", { type: "button", id: `confirm-close-${c.id}`, class: "button-primary", onclick: (e) => confirmClose(e.currentTarget, c) }, t("stock.confirm_close")),
        );
      });
      const group = (id2, title, items) => h("section", { id: id2, class: "stock-group" }, h("h2", {}, title), items.length ? h("ul", {}, items) : h("p", { class: "muted" }, t("stock.none")));
      sections.push(
        group("pending-entries", t("stock.pending"), data.pending_entries.map((e) => entryLine(e, me, confirmEntry))),
        group("pending-closes", t("stock.pending_closes"), pendingClose),
        group(
          "transfers-arriving",
          t("stock.arriving"),
          data.transfers_arriving.map((tr) =>
            entryLine(tr, me, confirmEntry, h("button", { type: "button", id: `receive-${tr.id}`, onclick: (e) => receive(e.currentTarget, tr) }, t("stock.receive"))),
          ),
        ),
        group("transfers-out", t("stock.in_transit"), data.transfers_out_in_transit.map((e) => entryLine(e, me, confirmEntry))),
        group(
          "outstanding-visits",
          t("stock.outstanding"),
          data.outstanding_home_visits.map((v) => h("li", {}, h("a", { href: "#/home-visits" }, t("stock.outstanding_line", { date: v.visit_day })))),
        ),
      );
      body.replaceChildren(...sections);
      syncKind();
    } catch (error) {
      status.showError(error);
    }
  }

  container.addEventListener("change", (event) => {
    if (event.target.id === "site-select") load();
  });
  container.append(
    h("div", { class: "page-head" }, pageHeading(t("nav.stock")), sitePicker(me)),
    h("p", { class: "lead" }, t("page.stock.intro")),
    h("div", { class: "print-tools" }, ledgerButton, ledgerLink),
    status.el,
    body,
    h("div", { class: "stock-forms" }, closeForm, entryForm),
  );
  loadSites()
    .then(() => {
      if (container.isConnected) load();
    })
    .catch(() => {});
}
