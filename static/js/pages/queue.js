// The day's queue of the nurse's site, full width, with a filter per state and the day's
// dispensing register (PDF). A row opens the patient on the dosing screen.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { sitePicker, selectedSiteId, loadSites } from "../sites.js";
import { queueView, QUEUE_STATES } from "../queue-view.js";
import { pageHeading, messageBox, whileBusy, codeLabel, openPdf, repeatWhileShown, todayIso } from "../ui.js";

const REFRESH_MS = 60_000;

export function render(container, { user }) {
  const filters = ["all", ...QUEUE_STATES];
  const radios = filters.map((state) =>
    h("input", { type: "radio", name: "queue-filter", id: `queue-filter-${state}`, value: state, checked: state === "all" }),
  );
  const queue = queueView({
    wide: true,
    onPick: (entry) => {
      location.hash = `#/dispensing?patient=${encodeURIComponent(entry.patient_id)}`;
    },
  });
  const print = h("button", { type: "button", id: "print-register", class: "button-secondary" }, t("registers.print"));
  const printLink = h("a", { id: "print-register-link", target: "_blank", rel: "noopener", hidden: true }, t("registers.open_pdf"));
  const printError = messageBox("print-register-error", "error");

  print.addEventListener("click", async () => {
    printError.clear();
    const site = selectedSiteId();
    if (!site) return;
    try {
      await whileBusy(print, t("common.loading"), () =>
        openPdf(`/reports/dispensing-register.pdf?site_id=${encodeURIComponent(site)}&date=${todayIso()}`, printLink),
      );
    } catch (error) {
      printError.showError(error);
    }
  });

  const filterGroup = h(
    "fieldset",
    { class: "radio-group queue-filter", id: "queue-filter" },
    h("legend", {}, t("queue.filter")),
    radios.map((radio, i) =>
      h(
        "label",
        { class: "checkbox", for: radio.id },
        radio,
        filters[i] === "all" ? t("queue.all") : codeLabel("queue.state", filters[i]),
      ),
    ),
  );
  filterGroup.addEventListener("change", (event) => {
    if (event.target.name === "queue-filter") queue.setFilter(event.target.value);
  });

  container.addEventListener("change", (event) => {
    if (event.target.id === "site-select") queue.load(selectedSiteId());
  });

  container.append(
    h("div", { class: "page-head" }, pageHeading(t("nav.queue")), sitePicker(user)),
    h("div", { class: "queue-tools" }, filterGroup, h("div", { class: "print-tools" }, print, printLink)),
    printError.el,
    h("p", { class: "hint" }, t("queue.open_hint")),
    queue.el,
  );

  loadSites()
    .then(() => {
      if (container.isConnected && selectedSiteId()) queue.load(selectedSiteId());
    })
    .catch(() => {});
  repeatWhileShown(container, REFRESH_MS, () => queue.refresh());
}
