// The site list (cached for the page session) and the nurse's current site.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { api, errorText } from "./api.js";

const SELECTED_KEY = "mmt.site";
const LIST_KEY = "mmt.sites"; // the last list, for a window that lost the line
let cache = null;

export function loadSites() {
  cache ??= api.get("/sites").then(
    (sites) => {
      sessionStorage.setItem(LIST_KEY, JSON.stringify(sites));
      return sites;
    },
    (error) => {
      cache = null;
      const kept = error.code === "network_error" ? JSON.parse(sessionStorage.getItem(LIST_KEY)) : null;
      if (kept) return kept;
      throw error;
    },
  );
  return cache;
}

/** Call after creating a site so that the next loadSites() asks the server again. */
export function forgetSites() {
  cache = null;
}

/** The site the nurse works at in this tab (one of their site_ids), or null. */
export function selectedSiteId() {
  return sessionStorage.getItem(SELECTED_KEY);
}

/**
 * A select (id `site-select`) of the user's active sites. The choice is kept in
 * sessionStorage; pages that care listen for the `change` event bubbling from it.
 */
export function sitePicker(user) {
  const box = h("div", { class: "site-picker", id: "site-picker" }, h("p", { class: "muted" }, t("common.loading")));
  loadSites().then(
    (sites) => {
      const mine = sites.filter((site) => site.active && user.site_ids.includes(site.id));
      if (!mine.length) {
        box.replaceChildren(h("p", { class: "notice blocked", role: "alert" }, t("site.none")));
        return;
      }
      let current = selectedSiteId();
      if (!mine.some((site) => site.id === current)) {
        current = mine[0].id;
        sessionStorage.setItem(SELECTED_KEY, current);
      }
      const select = h(
        "select",
        { id: "site-select", onchange: () => sessionStorage.setItem(SELECTED_KEY, select.value) },
        mine.map((site) => h("option", { value: site.id }, site.name)),
      );
      select.value = current;
      box.replaceChildren(h("label", { for: "site-select" }, t("site.label")), select);
    },
    (error) => box.replaceChildren(h("p", { class: "message message-error", role: "alert" }, errorText(error))),
  );
  return box;
}
