// All user-visible text comes from one table per language (static/i18n/*.js).
import zhCN from "../i18n/zh-CN.js";
import en from "../i18n/en.js";

const TABLES = { "zh-CN": zhCN, en };
const DEFAULT_LANG = "zh-CN";
const STORAGE_KEY = "mmt.lang";

const listeners = new Set();
let lang = TABLES[localStorage.getItem(STORAGE_KEY)] ? localStorage.getItem(STORAGE_KEY) : DEFAULT_LANG;

/** The text for `key`, with `{name}` placeholders replaced from `params`. */
export function t(key, params = {}) {
  const text = Object.hasOwn(TABLES[lang], key) ? TABLES[lang][key] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** Whether the current table has a text for `key`. */
export function hasText(key) {
  return Object.hasOwn(TABLES[lang], key);
}

export function getLang() {
  return lang;
}

/** Switch language, remember it, and ask every listener to re-render. */
export function setLang(next) {
  if (!TABLES[next] || next === lang) return;
  lang = next;
  localStorage.setItem(STORAGE_KEY, next);
  translateDocument();
  for (const listener of listeners) listener(next);
}

export function onLangChange(listener) {
  listeners.add(listener);
}

/** Fill every element marked `data-i18n="key"` in the static shell. */
export function translateDocument() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
}
