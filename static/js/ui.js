// Small building blocks shared by the pages.
import { h } from "./dom.js";
import { t, getLang, hasText } from "./i18n.js";
import { api, errorText } from "./api.js";

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

const pad2 = (n) => String(n).padStart(2, "0");

/** A Date as YYYY-MM-DD in the browser's zone (the clinic's zone on its terminals). */
export function isoDate(date) {
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
}

export function todayIso() {
  return isoDate(new Date());
}

/** YYYY-MM-DD plus `days` (negative to go back); calendar arithmetic, no time zones involved. */
export function addDays(iso, days) {
  const [y, m, d] = iso.split("-").map(Number);
  return isoDate(new Date(y, m - 1, d + days));
}

/** HH:mm of an RFC 3339 instant, in the browser's local zone. */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso ?? "";
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

/** YYYY-MM-DD of an RFC 3339 instant, in the browser's local zone. */
export function localDay(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso ?? "" : isoDate(date);
}

/** Whole years between a YYYY-MM-DD birth date and today, or null. */
export function ageFrom(birthDate) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate ?? "");
  if (!match) return null;
  const now = new Date();
  let age = now.getFullYear() - Number(match[1]);
  const month = now.getMonth() + 1;
  if (month < Number(match[2]) || (month === Number(match[2]) && now.getDate() < Number(match[3]))) age -= 1;
  return age;
}

/** "男 · 45岁" / "M · 45 y". */
export function sexAge(patient) {
  const age = ageFrom(patient.birth_date);
  const parts = [codeLabel("sex", patient.sex)];
  if (age !== null) parts.push(t("common.age", { n: age }));
  return parts.join(" · ");
}

/**
 * A dose typed by a person ("60", "62.5", full-width "６０", "60 mg") as a number of mg
 * with at most one decimal, or null when it is not one.
 */
export function parseMg(text) {
  const normal = String(text ?? "")
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[．。]/g, ".")
    .replace(/\s*mg\s*$/i, "")
    .trim();
  if (!/^\d{1,4}(\.\d)?$/.test(normal)) return null;
  return Number(normal);
}

/** 60 → "60", 62.5 → "62.5". */
export function mgNumber(mg) {
  if (mg === null || mg === undefined || Number.isNaN(Number(mg))) return t("common.empty_value");
  const n = Number(mg);
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** 60 → "60 mg". */
export function formatMg(mg) {
  if (mg === null || mg === undefined) return t("common.empty_value");
  return t("common.mg", { n: mgNumber(mg) });
}

/**
 * A refusal or block from the server: our name for its code in bold (data-code carries the
 * code), then the server's own message, which says what to do next.
 */
export function ruleMessage(code, message) {
  // A code we have no name for (a new warning, say) shows just the server's words.
  if (!hasText(`error.${code}`) && message) return [h("span", { class: "rule-text", "data-code": code }, message)];
  const label = hasText(`error.${code}`) ? t(`error.${code}`) : code;
  const nodes = [h("strong", { class: "rule-code", "data-code": code }, label)];
  if (message && message !== label) nodes.push(h("span", { class: "rule-text" }, message));
  return nodes;
}

/** Fills a message box element with an error: a rule refusal with its code, or plain text. */
export function showRefusal(box, error) {
  box.dataset.code = error.code;
  if (error.code === "network_error" || error.code === "unexpected_response" || error.code === "unauthenticated") {
    box.replaceChildren(errorText(error));
  } else {
    box.replaceChildren(...ruleMessage(error.code, error.message));
  }
}

/** Runs `cleanup` once `el` has left the page (the router replaced it). */
const disconnectWatch = new Map();
let disconnectObserver = null;
export function onDisconnect(el, cleanup) {
  disconnectWatch.set(cleanup, el);
  disconnectObserver ??= new MutationObserver(() => {
    for (const [fn, node] of disconnectWatch) {
      if (!node.isConnected) {
        disconnectWatch.delete(fn);
        fn();
      }
    }
  });
  disconnectObserver.observe(document.getElementById("main") ?? document.body, { childList: true });
}

/** Runs `work` every `ms` while `el` is on the page. */
export function repeatWhileShown(el, ms, work) {
  const timer = setInterval(() => {
    if (el.isConnected) work();
  }, ms);
  onDisconnect(el, () => clearInterval(timer));
}

/** A random v4 UUID; crypto.randomUUID exists only in secure contexts (https, localhost). */
export function newUuid() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Fetches a PDF with the sign-in and opens it in a new tab. The tab is opened at once (while
 * the click still counts as the user's) and pointed at the PDF when it arrives; when the
 * browser blocks the tab, `fallback` (an <a>) is shown pointing at the PDF instead.
 */
export async function openPdf(path, fallback) {
  const tab = window.open("", "_blank");
  let blob;
  try {
    blob = await api.blob(path);
  } catch (error) {
    tab?.close();
    throw error;
  }
  const url = URL.createObjectURL(new Blob([blob], { type: "application/pdf" }));
  if (tab) tab.location.href = url;
  if (fallback) {
    fallback.href = url;
    fallback.hidden = false;
  }
  // The tab has loaded it long before then; the fallback link is for this visit only.
  setTimeout(() => URL.revokeObjectURL(url), 10 * 60 * 1000);
}
