// The day's queue of a site (GET /sites/{id}/queue): counts per state and one row per
// patient. Shown beside the dosing screen and full-width on the queue page.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { messageBox, formatMg, formatTime, codeLabel, ruleMessage } from "./ui.js";

export const QUEUE_STATES = ["due", "blocked", "home_visit", "dosed"];

/**
 * queueView({ wide, onPick }) → { el, load(siteId), refresh(), setFilter(state|"all") }.
 * Rows are `li[data-patient-id][data-state]` in `ul#queue`; click, Enter or Space on a
 * row calls onPick(row data); the arrow keys move between rows.
 */
export function queueView({ wide = false, onPick } = {}) {
  const list = h("ul", { id: "queue", class: wide ? "queue-list wide" : "queue-list", "aria-label": t("queue.list_label") });
  const counts = h("p", { id: "queue-counts", class: "queue-counts" });
  const status = messageBox("queue-status", "info");
  const error = messageBox("queue-error", "error");
  const el = h("div", { class: "queue-view" }, counts, error.el, status.el, list);
  let siteId = null;
  let filter = "all";
  let ticket = 0;
  let entriesById = new Map();

  function rowFor(entry) {
    // On a dosed or home-visit row the "already dosed" block says nothing the state does not.
    const block = entry.state === "dosed" || entry.state === "home_visit" ? null : entry.blocks?.[0];
    const detail =
      entry.state === "blocked"
        ? null
        : entry.state === "dosed"
        ? t("queue.given", { mg: formatMg(entry.given_mg), time: entry.last_given_at ? formatTime(entry.last_given_at) : "" })
        : entry.state === "home_visit"
          ? t("queue.home_visit_note")
          : entry.given_mg > 0
            ? t("queue.due_of", { due: formatMg(entry.due_mg), total: formatMg(entry.day_total_mg) })
            : formatMg(entry.due_mg);
    return h(
      "li",
      {
        class: `queue-row state-${entry.state}`,
        tabindex: "0",
        "data-patient-id": entry.patient_id,
        "data-state": entry.state,
        "aria-label": `${entry.name} ${entry.patient_no} ${codeLabel("queue.state", entry.state)}`,
      },
      h("span", { class: "q-no" }, entry.patient_no),
      h("span", { class: "q-name" }, entry.name),
      h("span", { class: `badge q-state state-${entry.state}` }, codeLabel("queue.state", entry.state)),
      detail || wide ? h("span", { class: "q-dose" }, detail ?? "") : null,
      block
        ? h(
            "span",
            { class: "q-block", "data-code": block.code },
            ...ruleMessage(block.code, block.message, block.details),
          )
        : null,
      ...(entry.release_requests ?? []).map((request) => releaseFor(entry, request)),
    );
  }

  // Guest dosing elsewhere arranged after today's sheets: this site lets the patient's day go.
  function releaseFor(entry, request) {
    const site = request.site_name ?? t("queue.another_site");
    const button = h(
      "button",
      { type: "button", class: "q-release-button", "data-arrangement-id": request.arrangement_id },
      t("queue.release_button", { site_name: site }),
    );
    button.addEventListener("click", async (event) => {
      event.stopPropagation();
      button.disabled = true;
      try {
        await api.post(
          `/patients/${encodeURIComponent(entry.patient_id)}/guest-dosing/${encodeURIComponent(request.arrangement_id)}/release`,
          {},
        );
        await refresh();
      } catch (err) {
        button.disabled = false;
        error.showError(err);
      }
    });
    return h("span", { class: "q-release" }, t("queue.release_asked", { site_name: site }), " ", button);
  }

  function applyFilter() {
    let shown = 0;
    for (const row of list.querySelectorAll("li[data-state]")) {
      row.hidden = filter !== "all" && row.dataset.state !== filter;
      if (!row.hidden) shown++;
    }
    return shown;
  }

  function render(entries) {
    const focusedId = list.contains(document.activeElement) ? document.activeElement.dataset.patientId : null;
    const tally = Object.fromEntries(QUEUE_STATES.map((state) => [state, 0]));
    for (const entry of entries) tally[entry.state] = (tally[entry.state] ?? 0) + 1;
    counts.replaceChildren(
      ...QUEUE_STATES.map((state) =>
        h("span", { class: `queue-count state-${state}`, "data-count": state }, codeLabel("queue.state", state), " ", h("b", {}, tally[state])),
      ),
    );
    const order = (state) => QUEUE_STATES.indexOf(state);
    const sorted = entries.map((entry, i) => [entry, i]).sort((a, b) => order(a[0].state) - order(b[0].state) || a[1] - b[1]);
    entriesById = new Map(entries.map((entry) => [entry.patient_id, entry]));
    list.replaceChildren(...sorted.map(([entry]) => rowFor(entry)));
    list.dataset.rows = String(entries.length);
    const shown = applyFilter();
    status.show(entries.length === 0 ? t("queue.empty") : shown === 0 ? t("queue.none_in_filter") : "");
    if (focusedId) [...list.children].find((row) => row.dataset.patientId === focusedId)?.focus();
  }

  async function refresh() {
    if (!siteId) return;
    const mine = ++ticket;
    try {
      const entries = await api.get(`/sites/${encodeURIComponent(siteId)}/queue`);
      if (mine !== ticket) return;
      error.clear();
      render(entries);
      el.dataset.loadedAt = new Date().toISOString();
    } catch (err) {
      if (mine === ticket) error.showError(err);
    }
  }

  function pick(row) {
    const entry = entriesById.get(row.dataset.patientId);
    if (entry) onPick?.(entry);
  }

  list.addEventListener("click", (event) => {
    const row = event.target.closest("li[data-patient-id]");
    if (row && !event.target.closest("button")) pick(row);
  });
  list.addEventListener("keydown", (event) => {
    const row = event.target.closest("li[data-patient-id]");
    if (!row || event.target.closest("button")) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      pick(row);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const rows = [...list.querySelectorAll("li[data-patient-id]:not([hidden])")];
      const next = rows[rows.indexOf(row) + (event.key === "ArrowDown" ? 1 : -1)];
      next?.focus();
    }
  });

  return {
    el,
    load(id) {
      siteId = id;
      list.replaceChildren();
      counts.replaceChildren();
      status.show(t("common.loading"));
      return refresh();
    },
    refresh,
    /** Shows rows computed here (offline, from the day sheet) instead of the server's. */
    show(entries) {
      ticket++;
      error.clear();
      render(entries);
    },
    setFilter(state) {
      filter = state;
      const shown = applyFilter();
      const total = list.querySelectorAll("li[data-state]").length;
      status.show(total === 0 ? t("queue.empty") : shown === 0 ? t("queue.none_in_filter") : "");
    },
  };
}
