// Small building blocks shared by the pages.
import { h } from "./dom.js";
import { t, getLang, hasText } from "./i18n.js";
import { api, errorText } from "./api.js";
import { clinicZone, serviceNow } from "./clock.js";

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
      box.textContent = refusalText(error);
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
  return date.toLocaleString(getLang(), { dateStyle: "medium", timeStyle: "short", timeZone: clinicZone() });
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

/** The parts of an instant on the clinic's calendar and wall clock. */
function clinicParts(date) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-US", {
    timeZone: clinicZone(), year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(date)) {
    parts[p.type] = p.value;
  }
  return parts;
}

/** A Date as YYYY-MM-DD on the clinic's calendar (its time zone, not the terminal's). */
export function isoDate(date) {
  const p = clinicParts(date);
  return `${p.year}-${p.month}-${p.day}`;
}

/** The clinic's day today, by the service's clock. */
export function todayIso() {
  return isoDate(serviceNow());
}

/** YYYY-MM-DD plus `days` (negative to go back); calendar arithmetic, no time zones involved. */
export function addDays(iso, days) {
  const [y, m, d] = iso.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d + days));
  return `${date.getUTCFullYear()}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}`;
}

/** HH:mm of an RFC 3339 instant, on the clinic's wall clock. */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso ?? "";
  const p = clinicParts(date);
  return `${p.hour}:${p.minute}`;
}

/** YYYY-MM-DD of an RFC 3339 instant, on the clinic's calendar. */
export function localDay(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso ?? "" : isoDate(date);
}

/** The service's now as a datetime-local value (clinic wall clock, to the minute). */
export function clinicNowLocal() {
  const now = serviceNow();
  return `${isoDate(now)}T${formatTime(now.toISOString())}`;
}

/** A datetime-local value read on the clinic's wall clock, as an RFC 3339 instant. */
export function clinicInstant(local) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local ?? "");
  if (!match) return null;
  const [y, mo, d, hh, mm] = match.slice(1).map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, hh, mm);
  // The zone's offset at that moment: what the clinic's clock shows for asUtc, minus asUtc.
  const p = clinicParts(new Date(asUtc));
  const shown = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute));
  return new Date(asUtc - (shown - asUtc)).toISOString();
}

/** Whole years between a YYYY-MM-DD birth date and today, or null. */
export function ageFrom(birthDate) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate ?? "");
  if (!match) return null;
  const [year, month, day] = todayIso().split("-").map(Number);
  let age = year - Number(match[1]);
  if (month < Number(match[2]) || (month === Number(match[2]) && day < Number(match[3]))) age -= 1;
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

/** A YYYY-MM-DD day (or an RFC 3339 instant, taken in the local zone) as "11月10日" / "10 Nov". */
export function formatDay(value) {
  let month;
  let day;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value ?? "");
  if (match) {
    month = Number(match[2]);
    day = Number(match[3]);
  } else {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return value ?? "";
    [, month, day] = isoDate(date).split("-").map(Number);
  }
  return t("common.day_month", { m: month, d: day, mon: t("common.months").split(" ")[month - 1] });
}

// ── Refusals and blocks: one sentence per rule code, in the page's language ──────────
// Each entry picks the template (a key under "rule.") from the error's `details` and the
// values to put in it; a detail that is missing selects a shorter template without it.
// The server's English message is used only to tell apart cases that share a code.

const given = (value) => value !== null && value !== undefined && value !== "";
const isNumber = (value) => given(value) && Number.isFinite(Number(value));
/** A whole count or QTc for a template. */
const countText = (value) => String(Number(value));

/** The QTc from details, or from the server's "The latest QTc is 470 ms" (an order's warnings carry no details). */
function qtcChoice(d, message) {
  const qtc = isNumber(d.qtc_ms) ? d.qtc_ms : /\bQTc is (\d{3}) ms\b/.exec(message ?? "")?.[1];
  return qtc ? [null, { qtc_ms: countText(qtc) }] : ["short"];
}

const RULE_TEMPLATES = {
  already_dosed_today(d) {
    const time = given(d.given_at) ? formatTime(d.given_at) : null;
    if (d.home_visit === true) return time ? ["home_visit", { time }] : ["home_visit_no_time"];
    if (time && given(d.site_name)) return ["at_site", { time, site_name: d.site_name }];
    if (time) return ["at_time", { time }];
    return [null];
  },
  site_not_allowed(d, message) {
    if (d.awaiting_release === true && given(d.site_name)) return ["awaiting_release", { site_name: d.site_name }];
    if (d.elsewhere === true && given(d.site_name)) return ["elsewhere", { site_name: d.site_name }];
    // A release asked of a site that does not hold the patient's day.
    if (/^Only a nurse of the site holding/i.test(message ?? "") && given(d.site_name)) {
      return ["release_holder", { site_name: d.site_name }];
    }
    if (/^You are not assigned/i.test(message ?? "")) return ["not_assigned"];
    // A reversal or late correction asked for at a site other than the dose's.
    if (/^Only staff of the site/i.test(message ?? "")) return ["dose_site"];
    if (/^This patient doses at another site/i.test(message ?? "") && given(d.site_name)) {
      return ["elsewhere", { site_name: d.site_name }];
    }
    return [null];
  },
  patient_not_active: () => [null],
  no_active_order: () => [null],
  split_interval_not_elapsed: (d) => (given(d.ready_at) ? [null, { time: formatTime(d.ready_at) }] : ["no_time"]),
  identity_not_confirmed: () => [null],
  dose_withheld_intoxicated: () => [null],
  doctor_review_required(d) {
    if (d.withheld === true) return ["withheld"];
    if (isNumber(d.missed_days) && Number(d.missed_days) > 0) {
      return isNumber(d.max_mg) && Number(d.max_mg) > 0
        ? [null, { missed_days: countText(d.missed_days), max_mg: mgNumber(d.max_mg) }]
        : ["no_max", { missed_days: countText(d.missed_days) }];
    }
    return ["short"];
  },
  reinduction_required: (d) => (isNumber(d.missed_days) ? [null, { missed_days: countText(d.missed_days) }] : ["short"]),
  dose_exceeds_due(d) {
    // Dosing answers with due_mg; a doctor's review with max_mg (and missed_days).
    if (isNumber(d.due_mg)) return ["due", { due_mg: mgNumber(d.due_mg) }];
    if (isNumber(d.max_mg)) {
      if (Number(d.max_mg) <= 0) return ["review_none"];
      return isNumber(d.missed_days) && Number(d.missed_days) > 0
        ? ["review", { max_mg: mgNumber(d.max_mg), missed_days: countText(d.missed_days) }]
        : ["review_max", { max_mg: mgNumber(d.max_mg) }];
    }
    return [null];
  },
  validation_failed(d, message) {
    // Only the missing note on a dose below what is due; any other invalid input keeps the
    // general text with the server's words. (A note refused for another reason, e.g. too
    // long, has the same field but another message.)
    if (d.field === "note" && (!message || /^Giving less than/i.test(message))) return ["note"];
    return undefined;
  },
  dose_above_ceiling: (d) => (isNumber(d.ceiling_mg) ? [null, { ceiling_mg: mgNumber(d.ceiling_mg) }] : ["short"]),
  induction_required: () => [null],
  induction_dose_exceeded(d) {
    if (isNumber(d.max_portion_mg)) return ["portion", { max_portion_mg: mgNumber(d.max_portion_mg) }];
    if (isNumber(d.max_day_total_mg)) return ["day_total", { max_day_total_mg: mgNumber(d.max_day_total_mg) }];
    return [null];
  },
  dose_step_exceeded(d) {
    if (isNumber(d.max_step_mg)) {
      return isNumber(d.current_mg)
        ? ["step", { max_step_mg: mgNumber(d.max_step_mg), current_mg: mgNumber(d.current_mg) }]
        : ["step_only", { max_step_mg: mgNumber(d.max_step_mg) }];
    }
    if (isNumber(d.window_cap_mg)) {
      return isNumber(d.already_mg)
        ? ["window", { window_cap_mg: mgNumber(d.window_cap_mg), already_mg: mgNumber(d.already_mg) }]
        : ["window_only", { window_cap_mg: mgNumber(d.window_cap_mg) }];
    }
    return [null];
  },
  increase_too_soon(d) {
    if (given(d.earliest)) {
      return given(d.previous_increase_on)
        ? [null, { previous_increase_on: formatDay(d.previous_increase_on), earliest: formatDay(d.earliest) }]
        : ["earliest", { earliest: formatDay(d.earliest) }];
    }
    return ["short"];
  },
  ecg_required: () => [null],
  qtc_too_long: (d, message) => qtcChoice(d, message),
  qtc_prolonged: (d, message) => qtcChoice(d, message),
  // A late correction's requester confirming it, or a high-dose order's prescriber approving it.
  second_doctor_required: (d) => [d.subject === "late_correction" ? "late_correction" : null],
  two_person_rule: () => [null],
  idempotency_key_reused: () => [null],
  duplicate_patient: () => [null],
  review_exists: () => [null],
  already_approved: () => [null],
  reversal_exists: () => [null],
  already_confirmed: (d) => [d.subject === "late_correction" ? "late_correction" : null],
  reversal_window_closed: (d) => (given(d.dose_day) ? [null, { dose_day: formatDay(d.dose_day) }] : ["short"]),
  use_reversal: () => [null],
  late_correction_exists: () => [null],
  dose_reversed: () => [null],
  home_visit_not_authorized: () => [null],
  home_visit_wrong_state: () => [null],
  home_visit_dose_outstanding: (d) => [null, { n: Array.isArray(d.visits) ? d.visits.length : 1 }],
  stock_discrepancy(d) {
    if (d.went_negative) return ["negative"];
    return isNumber(d.gap_ml) && isNumber(d.tolerance_ml)
      ? [null, { gap_ml: String(d.gap_ml), tolerance_ml: String(d.tolerance_ml), counted_ml: String(d.counted_ml), expected_ml: String(d.expected_ml) }]
      : ["short"];
  },
  no_dispensing_product: () => [null],
  day_closed: () => [null],
  duplicate_product: () => [null],
};

/**
 * The full sentence for a rule code in the page's language, filled from `details`, or null
 * when we have no template for this code (the caller then shows the server's message).
 */
export function ruleSentence(code, message, details) {
  const pick = Object.hasOwn(RULE_TEMPLATES, code) ? RULE_TEMPLATES[code] : null;
  if (!pick) return null;
  const d = details && typeof details === "object" ? details : {};
  const choice = pick(d, message);
  if (!choice) return null;
  const [variant, params = {}] = choice;
  const key = variant ? `rule.${code}.${variant}` : `rule.${code}`;
  return hasText(key) ? t(key, params) : null;
}

/**
 * A refusal or block (or an order's warning) as nodes: our sentence for its code, or, for a
 * code without one, our name for the code (if any) in bold and then the server's message.
 * data-code carries the code. The one place that turns a rule code into words on screen.
 */
export function ruleMessage(code, message, details) {
  const sentence = ruleSentence(code, message, details);
  if (sentence !== null) return [h("span", { class: "rule-sentence", "data-code": code }, sentence)];
  // A code we have no name for (a new warning, say) shows just the server's words.
  if (!hasText(`error.${code}`) && message) return [h("span", { class: "rule-text", "data-code": code }, message)];
  const label = hasText(`error.${code}`) ? t(`error.${code}`) : code;
  const nodes = [h("strong", { class: "rule-code", "data-code": code }, label)];
  if (message && message !== label) nodes.push(h("span", { class: "rule-text" }, message));
  return nodes;
}

/** Errors that are not a rule's refusal: said in our words, never the server's. */
const TRANSPORT_ERRORS = new Set(["network_error", "unexpected_response", "unauthenticated"]);

/** An error as one line of text: the rule sentence when there is one, else errorText(). */
export function refusalText(error) {
  if (!TRANSPORT_ERRORS.has(error.code)) {
    const sentence = ruleSentence(error.code, error.message, error.details);
    if (sentence !== null) return sentence;
  }
  return errorText(error);
}

/** Fills a message box element with an error: a rule refusal with its code, or plain text. */
export function showRefusal(box, error) {
  box.dataset.code = error.code;
  if (TRANSPORT_ERRORS.has(error.code)) {
    box.replaceChildren(errorText(error));
  } else {
    box.replaceChildren(...ruleMessage(error.code, error.message, error.details));
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
 * A POST to `path` that a terminal may retry (doses, stock entries, home-visit outcomes):
 * each new body gets a new `Idempotency-Key`; the same body sent again after a network error
 * keeps its key, so that the server records it once even if the first request did arrive.
 */
export function retryablePost(path) {
  let attempt = null; // { key, body } of the request that may be retried
  return async (body) => {
    const signature = JSON.stringify(body);
    if (attempt?.body !== signature) attempt = { key: newUuid(), body: signature };
    try {
      const answer = await api.post(path, body, { "Idempotency-Key": attempt.key });
      attempt = null;
      return answer;
    } catch (error) {
      if (error.code !== "network_error") attempt = null;
      throw error;
    }
  };
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

/**
 * Fetches a file (a CSV or JSON export) with the sign-in and saves it as `filename`.
 * `fallback` (an <a>) is pointed at the file as well, for a browser that ignores the
 * programmatic click.
 */
export async function downloadFile(path, filename, fallback) {
  const blob = await api.blob(path);
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  if (fallback) {
    fallback.href = url;
    fallback.download = filename;
    fallback.hidden = false;
  }
  setTimeout(() => URL.revokeObjectURL(url), 10 * 60 * 1000);
}
