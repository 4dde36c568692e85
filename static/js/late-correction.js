// Late corrections (RULES.md "Corrections"): a dose of an earlier day is not reversed; it is
// corrected by a request with a reason, confirmed by a doctor who did not request it. The
// request control (a button that opens a reason form) and the confirm button, used by the
// dosing window, the patient page and the doctors' approvals page.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { field, showRefusal, whileBusy } from "./ui.js";

const path = (doseId) => `/doses/${encodeURIComponent(doseId)}/late-correction`;

/**
 * "申请更正" for a dose of an earlier day: a button that opens a reason form. `onRequested`
 * runs after the request was recorded.
 */
export function lateCorrectionRequest(doseId, { idPrefix = "late-correction", onRequested } = {}) {
  const open = h("button", { type: "button", class: "button-secondary", id: `${idPrefix}-open`, "data-late-correction": doseId }, t("correction.request"));
  const reason = h("input", { type: "text", name: "reason", required: true, autocomplete: "off", maxlength: 300 });
  const submit = h("button", { type: "submit", class: "button-danger", id: `${idPrefix}-submit` }, t("correction.submit"));
  const cancel = h("button", { type: "button", class: "button-secondary", id: `${idPrefix}-cancel` }, t("common.cancel"));
  const message = h("p", { class: "message", role: "status", id: `${idPrefix}-message` });
  const form = h(
    "form",
    { class: "late-correction-form", id: `${idPrefix}-form`, hidden: true },
    field(`${idPrefix}-reason`, t("correction.reason"), reason, t("correction.hint")),
    h("div", { class: "form-actions" }, submit, cancel),
  );
  open.addEventListener("click", () => {
    form.hidden = false;
    open.hidden = true;
    message.replaceChildren();
    reason.focus();
  });
  const close = () => {
    form.hidden = true;
    open.hidden = false;
    open.focus();
  };
  cancel.addEventListener("click", close);
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    // Closes the form only; the page's own Esc (start over) does not see it.
    event.preventDefault();
    event.stopPropagation();
    close();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    if (!text) return reason.focus();
    try {
      const answer = await whileBusy(submit, t("common.saving"), () => api.post(path(doseId), { reason: text }));
      form.hidden = true;
      message.className = "message message-status";
      message.dataset.status = answer.status;
      message.textContent = t("correction.requested");
      onRequested?.(answer);
    } catch (error) {
      message.className = "message message-error";
      showRefusal(message, error);
      reason.focus();
    }
  });
  return h("div", { class: "late-correction", id: idPrefix }, open, form, message);
}

/** "确认更正" for a doctor who did not request the correction. */
export function lateCorrectionConfirm(doseId, { idPrefix = "late-confirm", onConfirmed } = {}) {
  const button = h("button", { type: "button", class: "button-primary", id: `${idPrefix}-button`, "data-confirm-correction": doseId }, t("correction.confirm"));
  const message = h("p", { class: "message", role: "status", id: `${idPrefix}-message` });
  button.addEventListener("click", async () => {
    message.replaceChildren();
    try {
      const answer = await whileBusy(button, t("common.saving"), () => api.post(`${path(doseId)}/confirm`));
      button.remove();
      message.className = "message message-status";
      message.dataset.status = answer.status;
      message.textContent = t("correction.confirmed");
      onConfirmed?.(answer);
    } catch (error) {
      message.className = "message message-error";
      showRefusal(message, error);
      button.focus();
    }
  });
  return h("div", { class: "late-confirm" }, button, message);
}
