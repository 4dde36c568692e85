// Printable registers: the day's dispensing register of the nurse's site (PDF).
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { sitePicker, selectedSiteId } from "../sites.js";
import { pageHeading, field, messageBox, whileBusy, openPdf, todayIso } from "../ui.js";

export function render(container, { user }) {
  const date = h("input", { type: "date", name: "date", required: true, value: todayIso(), max: todayIso(), "data-autofocus": true });
  const print = h("button", { type: "submit", id: "print-register", class: "button-primary" }, t("registers.print"));
  const link = h("a", { id: "register-link", target: "_blank", rel: "noopener", hidden: true }, t("registers.open_pdf"));
  const error = messageBox("register-error", "error");
  const status = messageBox("register-status", "status");

  async function onPrint(event) {
    event.preventDefault();
    error.clear();
    status.clear();
    const site = selectedSiteId();
    if (!site || !/^\d{4}-\d{2}-\d{2}$/.test(date.value)) {
      date.focus();
      return;
    }
    try {
      await whileBusy(print, t("common.loading"), () =>
        openPdf(`/reports/dispensing-register.pdf?site_id=${encodeURIComponent(site)}&date=${date.value}`, link),
      );
      status.show(t("registers.opened", { date: date.value }));
    } catch (err) {
      error.showError(err);
    }
  }

  // Cards for every patient of the site, ten to an A4 sheet.
  const cards = h("button", { type: "button", id: "print-site-cards", class: "button-secondary" }, t("registers.print_cards"));
  const cardsLink = h("a", { id: "site-cards-link", target: "_blank", rel: "noopener", hidden: true }, t("registers.open_pdf"));
  const cardsError = messageBox("site-cards-error", "error");
  cards.addEventListener("click", async () => {
    cardsError.clear();
    const site = selectedSiteId();
    if (!site) return;
    try {
      await whileBusy(cards, t("common.loading"), () => openPdf(`/reports/patient-cards.pdf?site_id=${encodeURIComponent(site)}`, cardsLink));
    } catch (err) {
      cardsError.showError(err);
    }
  });

  container.append(
    h("div", { class: "page-head" }, pageHeading(t("nav.registers")), sitePicker(user)),
    h("p", { class: "lead" }, t("registers.intro")),
    h(
      "form",
      { id: "register-form", class: "form-grid panel", onsubmit: onPrint },
      field("register-date", t("registers.date"), date),
      h("div", { class: "form-actions" }, print, link, error.el, status.el),
    ),
    h(
      "section",
      { class: "panel", id: "site-cards-section", "aria-labelledby": "site-cards-heading" },
      h("h2", { id: "site-cards-heading" }, t("registers.cards_heading")),
      h("p", { class: "hint" }, t("registers.cards_hint")),
      h("div", { class: "form-actions" }, cards, cardsLink, cardsError.el),
    ),
  );
}
