// Drug tests (urine or hair): the inline result entry of the due list and the random urine
// selection, the patient page's test section, and the names of kinds and results.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { codeLabel, dataTable, field, formatDateTime, messageBox, showRefusal, todayIso, whileBusy } from "./ui.js";

export const TEST_KINDS = ["urine", "hair"];
export const TEST_RESULTS = ["negative", "positive", "refused", "pending"];
const RESULT_BADGE = { negative: "ok", positive: "blocked", refused: "blocked", pending: "warn" };

export function testResultBadge(result) {
  return h("span", { class: `badge result-badge ${RESULT_BADGE[result] ?? ""}`, "data-result": result }, codeLabel("test_result", result));
}

/** A select of the results, starting with "choose" so that nothing is recorded by default. */
export function resultSelect(attrs = {}) {
  return h(
    "select",
    { name: "result", required: true, ...attrs },
    h("option", { value: "" }, t("common.choose")),
    TEST_RESULTS.map((value) => h("option", { value }, codeLabel("test_result", value))),
  );
}

/**
 * An inline form (form.test-entry) recording one result: input.test-sampled-on (today by
 * default), select.test-result, button.test-submit and its own message. `body` adds fields
 * (selection_id); onSaved(test) runs after the 201.
 */
export function testEntryForm({ patientId, kind, idBase, body = {}, onSaved }) {
  const today = todayIso();
  const sampledOn = h("input", { type: "date", name: "sampled_on", id: `${idBase}-sampled-on`, class: "test-sampled-on", required: true, value: today, max: today, "aria-label": t("tests.sampled_on") });
  const result = resultSelect({ id: `${idBase}-result`, class: "test-result", "aria-label": t("tests.result") });
  const submit = h("button", { type: "submit", class: "button-primary test-submit", id: `${idBase}-submit` }, t("tests.record"));
  const message = h("div", { class: "message row-message", role: "alert", id: `${idBase}-message` });

  function fail(text, control) {
    message.className = "message row-message message-error";
    message.dataset.code = "validation_failed";
    message.textContent = text;
    control.focus();
  }

  async function onSubmit(event) {
    event.preventDefault();
    message.className = "message row-message";
    message.replaceChildren();
    delete message.dataset.code;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(sampledOn.value)) return fail(t("tests.sampled_on_required"), sampledOn);
    if (!result.value) return fail(t("tests.result_required"), result);
    const payload = { kind, sampled_on: sampledOn.value, result: result.value, ...body };
    try {
      const test = await whileBusy(submit, t("common.saving"), () => api.post(`/patients/${encodeURIComponent(patientId)}/tests`, payload));
      onSaved?.(test, form);
    } catch (err) {
      message.className = "message row-message message-error";
      showRefusal(message, err);
      result.focus();
    }
  }

  const form = h(
    "form",
    { class: "test-entry", "data-patient-id": patientId, "data-kind": kind, novalidate: true, onsubmit: onSubmit },
    sampledOn,
    result,
    submit,
    message,
  );
  return form;
}

/** How a test stands with the police: notified (unit, time), waiting, or nothing to do. */
function policeCell(test) {
  const notice = test.police_notification;
  if (notice) {
    return h("span", { class: "police-done" }, t("tests.police_notified", { unit: notice.police_unit, at: formatDateTime(notice.notified_at) }));
  }
  if (test.police_notification_required) {
    return h("a", { href: "#/tests", class: "badge blocked", "data-police": "required" }, t("tests.police_required"));
  }
  return t("common.empty_value");
}

/**
 * The patient page's section#patient-tests-section: the patient's tests, newest first
 * (a pending one gets its result in its row), and form#patient-test-form to record one.
 * onRecorded(test) runs after any save.
 */
export function patientTestsSection(patientId, { onRecorded } = {}) {
  const base = `/patients/${encodeURIComponent(patientId)}`;
  const today = todayIso();
  const tbody = h("tbody");
  const listError = messageBox("patient-tests-error", "error");
  const listStatus = messageBox("patient-tests-status", "info");
  const kind = h("select", { name: "kind", required: true }, TEST_KINDS.map((value) => h("option", { value }, codeLabel("test_kind", value))));
  const sampledOn = h("input", { type: "date", name: "sampled_on", required: true, value: today, max: today });
  const result = resultSelect();
  const submit = h("button", { type: "submit", id: "patient-test-submit", class: "button-primary" }, t("tests.record"));
  const error = messageBox("patient-test-error", "error");
  const status = messageBox("patient-test-status", "status");

  function pendingResult(test) {
    const select = resultSelect({ id: `test-result-${test.id}`, class: "test-result", "aria-label": t("tests.result") });
    select.querySelector('option[value="pending"]').remove();
    const save = h("button", { type: "submit", class: "button-secondary", "data-test-id": test.id }, t("tests.record"));
    const message = h("div", { class: "message row-message", role: "alert" });
    return h(
      "form",
      {
        class: "test-entry",
        "data-test-id": test.id,
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          message.className = "message row-message";
          message.replaceChildren();
          if (!select.value) {
            message.className = "message row-message message-error";
            message.textContent = t("tests.result_required");
            return select.focus();
          }
          try {
            const updated = await whileBusy(save, t("common.saving"), () => api.post(`/tests/${encodeURIComponent(test.id)}/result`, { result: select.value }));
            await load();
            onRecorded?.(updated);
          } catch (err) {
            message.className = "message row-message message-error";
            showRefusal(message, err);
          }
        },
      },
      testResultBadge(test.result),
      select,
      save,
      message,
    );
  }

  async function load() {
    try {
      const tests = await api.get(`${base}/tests`);
      listError.clear();
      tbody.replaceChildren(
        ...tests.map((test) =>
          h(
            "tr",
            { "data-test-id": test.id, "data-kind": test.kind, "data-result": test.result },
            h("td", { class: "nowrap" }, test.sampled_on),
            h("td", { class: "nowrap" }, codeLabel("test_kind", test.kind), test.selection_id ? h("span", { class: "muted" }, t("tests.random_mark")) : null),
            h("td", {}, test.result === "pending" ? pendingResult(test) : testResultBadge(test.result)),
            h("td", {}, test.recorded_by_name ?? t("common.empty_value"), h("br"), h("span", { class: "muted nowrap" }, formatDateTime(test.recorded_at))),
            h("td", {}, policeCell(test)),
          ),
        ),
      );
      listStatus.show(tests.length ? "" : t("tests.patient_none"));
    } catch (err) {
      tbody.replaceChildren();
      listError.showError(err);
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    error.clear();
    status.clear();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(sampledOn.value)) {
      error.show(t("tests.sampled_on_required"));
      return sampledOn.focus();
    }
    if (!result.value) {
      error.show(t("tests.result_required"));
      return result.focus();
    }
    const body = { kind: kind.value, sampled_on: sampledOn.value, result: result.value };
    try {
      const test = await whileBusy(submit, t("common.saving"), () => api.post(`${base}/tests`, body));
      status.show(t("tests.recorded_patient", { kind: codeLabel("test_kind", test.kind), date: test.sampled_on, result: codeLabel("test_result", test.result) }));
      result.value = "";
      await load();
      onRecorded?.(test);
    } catch (err) {
      error.el.dataset.code = err.code;
      error.showError(err);
    }
  }

  load();
  return h(
    "section",
    { class: "panel", id: "patient-tests-section", "aria-labelledby": "patient-tests-heading" },
    h("h2", { id: "patient-tests-heading" }, t("tests.patient_heading")),
    h(
      "form",
      { id: "patient-test-form", class: "form-grid compact", novalidate: true, onsubmit: onSubmit },
      field("patient-test-kind", t("tests.kind"), kind),
      field("patient-test-sampled-on", t("tests.sampled_on"), sampledOn),
      field("patient-test-result", t("tests.result"), result),
      h("div", { class: "form-actions" }, submit, error.el, status.el),
    ),
    listError.el,
    listStatus.el,
    dataTable("patient-tests-table", [t("tests.sampled_on"), t("tests.kind"), t("tests.result"), t("tests.recorded_by"), t("tests.police")], tbody),
  );
}
