// Small building blocks shared by the pages.
import { h } from "./dom.js";
import { t, getLang, hasText } from "./i18n.js";
import { errorText } from "./api.js";

/** The page's h1; the router moves focus to it after navigation. */
export function pageHeading(text) {
  return h("h1", { id: "page-title", tabindex: "-1" }, text);
}

/** A labelled form control. */
export function field(id, label, control, hint) {
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
  );
}

/**
 * A live message area: kind "error" (role=alert), "status" (role=status, a confirmation)
 * or "info" (role=status, neutral).
 * Stays in the page (empty and hidden by CSS) so that screen readers announce changes.
 */
export function messageBox(id, kind) {
  const box = h("div", { id, class: `message message-${kind}`, role: kind === "error" ? "alert" : "status" });
  return {
    el: box,
    show(text) {
      box.textContent = text;
    },
    showError(error) {
      box.textContent = errorText(error);
    },
    clear() {
      box.textContent = "";
    },
  };
}

/** Disables a submit button and shows a busy label while `work` runs. */
export async function whileBusy(button, busyLabel, work) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyLabel;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

export function dataTable(id, headings, tbody) {
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { id, class: "data" }, h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))), tbody),
  );
}

export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(getLang(), { dateStyle: "medium", timeStyle: "short" });
}

/** Joins names with the language's list separator ("、" or ", "), or a dash when empty. */
export function joinList(items) {
  return items.length ? items.join(t("common.list_separator")) : t("common.empty_value");
}

/** Splits "a, b，c、d" typed by a person into ["a","b","c","d"]. */
export function splitList(text) {
  return text
    .split(/[,，、;；\n]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}

/** The translated name of a server code such as a role or site kind, or the code itself if unknown. */
export function codeLabel(prefix, code) {
  return hasText(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : code;
}

export const ROLES = ["nurse", "doctor", "rehab_worker", "admin"];
