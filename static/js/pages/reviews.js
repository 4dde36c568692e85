// Patients who may not be dosed today until a doctor reviews them (3–4 missed days, or a
// dose withheld for intoxication): one inline form each to approve today's amount.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { loadSites } from "../sites.js";
import { pageHeading, messageBox, codeLabel, formatMg, mgNumber, parseMg, todayIso, ruleMessage, showRefusal, whileBusy } from "../ui.js";

export function render(container) {
  const date = todayIso();
  const error = messageBox("reviews-error", "error");
  const status = messageBox("reviews-status", "info");
  const list = h("div", { id: "reviews-list", class: "review-list" });
  let sites = [];

  function card(item) {
    const pid = item.patient_id;
    const amount = h("input", { type: "text", name: "approved_mg", id: `review-mg-${pid}`, inputmode: "decimal", autocomplete: "off", value: mgNumber(item.max_mg), "aria-describedby": `review-mg-hint-${pid}` });
    const note = h("input", { type: "text", name: "note", id: `review-note-${pid}`, required: true, autocomplete: "off" });
    const submit = h("button", { type: "submit", class: "button-primary", "data-review-submit": pid }, t("review.submit"));
    const message = h("div", { class: "message row-message", role: "alert", "data-review-message": pid });

    function fail(code, nodes, focus) {
      message.className = "message row-message message-error";
      message.dataset.code = code;
      message.replaceChildren(...nodes);
      focus?.focus();
    }

    async function onSubmit(event) {
      event.preventDefault();
      message.replaceChildren();
      message.className = "message row-message";
      const mg = parseMg(amount.value);
      if (mg === null || mg <= 0) return fail("validation_failed", ruleMessage("validation_failed", t("dispensing.amount_invalid")), amount);
      if (mg > item.max_mg) {
        return fail("dose_exceeds_due", ruleMessage("dose_exceeds_due", null, { max_mg: item.max_mg, missed_days: item.missed_days }), amount);
      }
      if (!note.value.trim()) return fail("validation_failed", ruleMessage("validation_failed", t("review.note_required")), note);
      try {
        await whileBusy(submit, t("common.saving"), () => api.post(`/patients/${encodeURIComponent(pid)}/reviews`, { date, approved_mg: mg, note: note.value.trim() }));
        form.dataset.done = "true";
        amount.disabled = note.disabled = true;
        submit.remove();
        message.className = "message row-message message-status";
        message.setAttribute("role", "status");
        delete message.dataset.code;
        message.textContent = t("review.done", { mg: formatMg(mg) });
      } catch (err) {
        message.className = "message row-message message-error";
        showRefusal(message, err);
        amount.focus();
      }
    }

    const siteName = sites.find((site) => site.id === item.home_site_id)?.name ?? item.home_site_id;
    const why = item.reason === "withheld" ? t("review.reason_withheld") : t("review.reason_missed", { n: item.missed_days });
    const form = h(
      "form",
      { class: "review-form", "data-review": pid, onsubmit: onSubmit, novalidate: true },
      h("div", { class: "field" }, h("label", { for: amount.id }, t("review.approved_mg")), amount, h("p", { class: "hint", id: `review-mg-hint-${pid}` }, t("review.max", { max: formatMg(item.max_mg) }))),
      h("div", { class: "field grow" }, h("label", { for: note.id }, t("review.note")), note),
      submit,
      message,
    );
    return h(
      "article",
      { class: `panel review-card reason-${item.reason}`, "data-patient-id": pid, "aria-labelledby": `review-name-${pid}` },
      h(
        "div",
        { class: "review-who" },
        h("h2", { id: `review-name-${pid}` }, h("a", { href: `#/patients/${encodeURIComponent(pid)}` }, item.patient_name), " ", h("span", { class: "muted" }, item.patient_no)),
        h("p", {}, h("span", { class: `badge ${item.reason === "withheld" ? "warn" : "blocked"}`, "data-reason": item.reason }, codeLabel("review.reason", item.reason)), " ", why),
        h("p", { class: "muted" }, t("review.order_line", { daily: formatMg(item.daily_mg), site: siteName ?? "" })),
      ),
      form,
    );
  }

  async function load() {
    error.clear();
    try {
      const [needed, loadedSites] = await Promise.all([api.get(`/reviews/needed?date=${date}`), loadSites().catch(() => [])]);
      sites = loadedSites;
      list.replaceChildren(...needed.map(card));
      status.show(needed.length ? t("review.count", { n: needed.length, date }) : t("review.none", { date }));
      list.querySelector("input")?.focus();
    } catch (err) {
      error.showError(err);
    }
  }

  container.append(pageHeading(t("nav.reviews")), h("p", { class: "lead" }, t("review.intro")), error.el, status.el, list);
  load();
}
