// The dosing window: find the patient (scan or type), compare the photo, see what is due
// today or why nothing may be given, confirm identity and give. Keyboard only:
// number + Enter → Space (identity) → Enter (give); Esc starts over.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api, errorText, ApiError } from "../api.js";
import { sitePicker, selectedSiteId, loadSites } from "../sites.js";
import { photoFrame } from "../photo.js";
import { queueView } from "../queue-view.js";
import {
  pageHeading, field, codeLabel, formatMg, mgNumber, formatTime, localDay, parseMg, sexAge,
  ruleMessage, ruleSentence, showRefusal, repeatWhileShown, retryablePost, onDisconnect,
} from "../ui.js";
import { lateCorrectionRequest } from "../late-correction.js";
import { offlineWindow } from "../offline-window.js";

const QUEUE_REFRESH_MS = 60_000;
// While the server cannot be reached, how often the window tries again.
const OFFLINE_RETRY_MS = 15_000;
// Blocks that only a doctor can lift: offline, the window says to phone the main clinic.
const DOCTOR_BLOCKS = new Set([
  "doctor_review_required", "reinduction_required", "patient_not_active", "no_active_order", "dose_withheld_intoxicated",
]);
const SEARCH_DELAY_MS = 250;
const INTOXICATION = ["clear", "sedated", "alcohol"];
// Refusals after which the decision on screen is out of date: load it again.
const STALE_DECISION = new Set([
  "already_dosed_today", "dose_withheld_intoxicated", "doctor_review_required", "reinduction_required",
  "patient_not_active", "no_active_order", "split_interval_not_elapsed", "dose_exceeds_due",
]);

export function render(container, { user }) {
  // ── Lookup ────────────────────────────────────────────────────────────────────
  const lookup = h("input", {
    type: "text",
    id: "patient-lookup",
    class: "lookup-input",
    autocomplete: "off",
    spellcheck: "false",
    autocapitalize: "off",
    role: "combobox",
    "aria-expanded": "false",
    "aria-controls": "lookup-results",
    "aria-autocomplete": "list",
    "aria-describedby": "patient-lookup-hint",
    "data-autofocus": true,
  });
  const results = h("ul", { id: "lookup-results", class: "lookup-results", role: "listbox", "aria-label": t("dispensing.results_label"), hidden: true });
  const lookupStatus = h("p", { id: "lookup-status", class: "lookup-status", role: "status" });

  // ── Outcome of the last attempt (stays while the next patient is looked up) ──────
  const result = h("p", { id: "dose-result", class: "dose-result", role: "status", "aria-live": "assertive" });
  const resultPatient = h("p", { id: "dose-result-patient", class: "dose-result-patient" });
  const reverseButton = h("button", { type: "button", id: "reverse-dose", class: "button-danger", hidden: true }, t("dispensing.reverse"));
  const reverseReason = h("input", { type: "text", name: "reason", required: true, autocomplete: "off" });
  const reverseSubmit = h("button", { type: "submit", id: "reverse-submit", class: "button-danger" }, t("dispensing.reverse_submit"));
  const reverseCancel = h("button", { type: "button", id: "reverse-cancel", class: "button-secondary" }, t("common.cancel"));
  const reverseForm = h(
    "form",
    { id: "reverse-form", class: "reverse-form", hidden: true },
    field("reverse-reason", t("dispensing.reverse_reason"), reverseReason, t("dispensing.reverse_hint")),
    h("div", { class: "form-actions" }, reverseSubmit, reverseCancel),
  );
  const reverseResult = h("p", { id: "reverse-result", class: "message message-status", role: "status" });
  const reverseLate = h("div", { id: "reverse-late" }); // a late correction, when the reversal came too late
  const outcome = h("div", { id: "dose-outcome", class: "dose-outcome", hidden: true }, result, resultPatient, reverseButton, reverseForm, reverseResult, reverseLate);

  // ── Decision ──────────────────────────────────────────────────────────────────
  const photo = photoFrame("patient-photo", { large: true });
  const decisionEl = h("section", { id: "decision", class: "decision", "aria-label": t("dispensing.decision_label"), hidden: true });

  // ── Queue ─────────────────────────────────────────────────────────────────────
  const queue = queueView({
    onPick: (entry) => openPatient(entry.patient_id, entry.patient_no),
  });
  const offline = offlineWindow();

  /** The queue from the server, or from the kept day sheet while offline. */
  async function refreshQueue() {
    const site = siteId();
    if (!site) return;
    if (offline.isOffline()) queue.show(await offline.queueEntries(site));
    else queue.refresh();
  }

  /** Uploads what was given offline and takes the sheets afresh; then the queue. */
  async function syncWindow() {
    const site = siteId();
    if (!site) return;
    await offline.sync(site);
    await refreshQueue();
  }

  let decision = null; // the decision on screen
  let searchTimer = null;
  let searchTicket = 0;
  let decisionTicket = 0;
  let found = []; // patients in the result list
  let foundFor = ""; // the text they were found for
  let active = -1; // highlighted option
  const postDose = retryablePost("/doses");
  let lastDose = null; // the dose given last, for a reversal request
  let giving = false;

  const siteId = () => selectedSiteId();

  // ── Result line ───────────────────────────────────────────────────────────────
  function showResult(kind, nodes, { code = null, patient = null } = {}) {
    outcome.hidden = false;
    result.className = `dose-result ${kind}`;
    if (code) result.dataset.code = code;
    else delete result.dataset.code;
    result.replaceChildren(...[nodes].flat());
    resultPatient.textContent = patient ? `${patient.name} · ${patient.patient_no}` : "";
    reverseButton.hidden = kind !== "ok";
    reverseForm.hidden = true;
    reverseResult.textContent = "";
    reverseLate.replaceChildren();
  }

  function clearResult() {
    outcome.hidden = true;
    result.className = "dose-result";
    delete result.dataset.code;
    result.replaceChildren();
    resultPatient.textContent = "";
    reverseButton.hidden = true;
    reverseForm.hidden = true;
    reverseResult.textContent = "";
    reverseLate.replaceChildren();
    lastDose = null;
  }

  // ── Result list (combobox) ──────────────────────────────────────────────────────
  function closeResults() {
    found = [];
    foundFor = "";
    active = -1;
    results.hidden = true;
    results.replaceChildren();
    lookup.setAttribute("aria-expanded", "false");
    lookup.removeAttribute("aria-activedescendant");
  }

  function setActive(index) {
    active = index;
    [...results.children].forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    const option = results.children[index];
    if (option) {
      lookup.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      lookup.removeAttribute("aria-activedescendant");
    }
  }

  function showResults(patients, text) {
    found = patients;
    foundFor = text;
    results.replaceChildren(
      ...patients.map((patient, i) =>
        h(
          "li",
          {
            id: `lookup-option-${i}`,
            role: "option",
            class: "lookup-option",
            "aria-selected": "false",
            "data-patient-id": patient.id,
            onmousedown: (event) => event.preventDefault(), // keep focus in the input
            onclick: () => pickPatient(patient),
          },
          h("span", { class: "opt-no" }, patient.patient_no),
          h("span", { class: "opt-name" }, patient.name),
          h("span", { class: "opt-meta" }, sexAge(patient)),
          patient.id_number_tail ? h("span", { class: "opt-meta" }, t("dispensing.id_tail", { tail: patient.id_number_tail })) : null,
          patient.status !== "active" ? h("span", { class: "badge blocked" }, codeLabel("patient_status", patient.status)) : null,
        ),
      ),
    );
    results.hidden = false;
    lookup.setAttribute("aria-expanded", "true");
    setActive(0);
    lookupStatus.textContent = t("dispensing.results_count", { n: patients.length });
  }

  async function search(text, { decide }) {
    const mine = ++searchTicket;
    clearTimeout(searchTimer);
    if (!text) {
      closeResults();
      lookupStatus.textContent = "";
      return;
    }
    let patients;
    try {
      // Offline, the window does not wait for a server it knows it cannot reach (a lost
      // line can take long to fail); the background sync finds out when it is back.
      if (offline.isOffline()) throw new ApiError(0, "network_error", "");
      patients = await api.get(`/patients?q=${encodeURIComponent(text)}`);
      offline.saw(null);
    } catch (error) {
      if (!offline.saw(error) || !siteId()) {
        if (mine === searchTicket) lookupStatus.textContent = errorText(error);
        return;
      }
      // Offline: only the patients this site holds today, from its day sheet.
      patients = await offline.search(siteId(), text);
      if (mine === searchTicket && patients.length === 0) {
        closeResults();
        lookupStatus.textContent = t("offline.not_on_sheet", { q: text });
        if (decide) hideDecision();
        return;
      }
    }
    if (mine !== searchTicket) return;
    const exact = patients.filter((patient) => patient.patient_no.toLowerCase() === text.toLowerCase());
    if (decide && exact.length === 1) {
      pickPatient(exact[0]);
    } else if (patients.length === 0) {
      closeResults();
      lookupStatus.textContent = t("dispensing.not_found", { q: text });
      if (decide) hideDecision();
    } else {
      showResults(patients, text);
    }
  }

  function pickPatient(patient) {
    openPatient(patient.id, patient.patient_no);
  }

  /** Loads a patient's decision; any search still running for the lookup text is dropped. */
  function openPatient(patientId, patientNo) {
    searchTicket++;
    clearTimeout(searchTimer);
    closeResults();
    lookupStatus.textContent = "";
    lookup.value = patientNo;
    loadDecision(patientId);
  }

  lookup.addEventListener("input", (event) => {
    clearTimeout(searchTimer);
    if (event.isComposing) return; // an IME is still composing; compositionend follows
    const text = lookup.value.trim();
    searchTicket++; // an answer to an older text is no longer wanted
    if (!text) {
      closeResults();
      lookupStatus.textContent = "";
      return;
    }
    searchTimer = setTimeout(() => search(text, { decide: false }), SEARCH_DELAY_MS);
  });

  lookup.addEventListener("compositionend", () => lookup.dispatchEvent(new Event("input")));

  lookup.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (results.hidden || !found.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((active + step + found.length) % found.length);
    } else if (event.key === "Enter") {
      if (event.isComposing) return;
      event.preventDefault();
      const text = lookup.value.trim();
      if (!results.hidden && found[active] && foundFor === text) pickPatient(found[active]);
      else search(text, { decide: true });
    }
  });

  // ── Decision panel ─────────────────────────────────────────────────────────────
  function hideDecision() {
    decisionTicket++;
    decision = null;
    photo.clear();
    decisionEl.hidden = true;
    decisionEl.replaceChildren();
    delete decisionEl.dataset.patientId;
    delete decisionEl.dataset.canDispense;
  }

  async function loadDecision(patientId, { keepResult = false, focus = true } = {}) {
    const site = siteId();
    if (!site) {
      showResult("blocked", t("site.none"));
      return;
    }
    const mine = ++decisionTicket;
    if (!keepResult) clearResult();
    decisionEl.hidden = false;
    decisionEl.setAttribute("aria-busy", "true");
    if (decision?.patient?.id !== patientId) {
      decisionEl.replaceChildren(h("p", { class: "muted" }, t("common.loading")));
      photo.clear();
    }
    try {
      if (offline.isOffline()) throw new ApiError(0, "network_error", ""); // as in search()
      // A dose given here offline and not uploaded yet (the line just came back, or a new
      // sign-in is needed): the server does not know it, the sheet does.
      if (await offline.waitingFor(patientId)) {
        const fromSheet = await offline.decision(site, patientId);
        if (mine !== decisionTicket) return;
        if (fromSheet) return renderDecision(fromSheet, focus);
      }
      const loaded = await api.get(`/patients/${encodeURIComponent(patientId)}/dispensing?site_id=${encodeURIComponent(site)}`);
      offline.saw(null);
      if (mine !== decisionTicket) return;
      if (!loaded.patient) loaded.patient = { id: patientId, name: "", patient_no: lookup.value.trim(), has_photo: false };
      loaded.patient.id ??= patientId;
      renderDecision(loaded, focus);
    } catch (error) {
      const fromSheet = offline.saw(error) ? await offline.decision(site, patientId) : null;
      if (mine !== decisionTicket) return;
      if (fromSheet) {
        renderDecision(fromSheet, focus);
        return;
      }
      decision = null;
      photo.clear();
      const box = h("p", { id: "decision-error", class: "message message-error", role: "alert" });
      if (offline.isOffline()) {
        box.dataset.code = "offline_not_assigned";
        box.textContent = t("offline.not_assigned");
      } else {
        showRefusal(box, error);
      }
      decisionEl.replaceChildren(box);
      if (focus) lookup.select();
    } finally {
      if (mine === decisionTicket) decisionEl.removeAttribute("aria-busy");
    }
  }

  function lastDoseLine(last) {
    if (!last) return t("dispensing.last_dose_none");
    return t("dispensing.last_dose", {
      date: last.given_at ? localDay(last.given_at) : last.dose_day,
      time: last.given_at ? formatTime(last.given_at) : "",
      site: last.site_name ?? "",
      mg: formatMg(last.dose_mg),
    });
  }

  function renderDecision(d, focus) {
    decision = d;
    const patient = d.patient;
    if (!lookup.value.trim()) lookup.value = patient.patient_no;
    if (photo.el.dataset.patientId !== patient.id || photo.el.dataset.photo === "none") {
      photo.el.dataset.patientId = patient.id;
      photo.show(patient.id, patient.has_photo, patient.name, d.offline ? () => offline.photo(patient.id) : null);
    }
    decisionEl.dataset.patientId = patient.id;
    decisionEl.dataset.canDispense = String(Boolean(d.can_dispense));
    decisionEl.className = d.can_dispense ? "decision can-dispense" : "decision cannot-dispense";

    const who = h(
      "div",
      { class: "decision-who" },
      h("p", { id: "patient-name", class: "patient-name" }, patient.name),
      h(
        "p",
        { class: "patient-meta" },
        h("span", { id: "patient-no", class: "patient-no" }, patient.patient_no),
        h("span", { id: "patient-sex-age" }, sexAge(patient)),
        patient.status && patient.status !== "active"
          ? h("span", { class: "badge blocked", id: "patient-status" }, codeLabel("patient_status", patient.status))
          : null,
      ),
      h("p", { id: "last-dose", class: "last-dose" }, lastDoseLine(d.last_dose)),
      // A dose of an earlier day is no longer reversed: a late correction, which a doctor
      // confirms (online only).
      !d.offline && d.last_dose?.id && d.last_dose.dose_day < d.date
        ? lateCorrectionRequest(d.last_dose.id, { idPrefix: "last-dose-correction" })
        : null,
      d.missed_days > 0
        ? h("p", { id: "missed-days", class: d.missed_days >= 3 ? "missed-days warn" : "missed-days" }, t("dispensing.missed_days", { n: d.missed_days }))
        : null,
      d.offline ? h("p", { id: "offline-decision", class: "offline-note" }, t("offline.decided_from_sheet")) : null,
    );

    let main;
    if (d.can_dispense) {
      const split = d.portion >= 2;
      main = h(
        "div",
        { class: "decision-due" },
        h("p", { class: "due-label", id: "due-label" }, t("dispensing.due_today", { date: d.date ?? "" })),
        h(
          "p",
          { id: "due-mg", class: "due-mg", "aria-describedby": "due-label" },
          h("span", { class: "due-amount" }, formatMg(d.due_mg)),
          split ? h("span", { class: "due-portion", id: "due-portion" }, t("dispensing.portion", { n: d.portion })) : null,
        ),
        d.day_total_mg !== undefined && d.day_total_mg !== d.due_mg
          ? h("p", { class: "due-total", id: "due-total" }, t("dispensing.day_total", { total: formatMg(d.day_total_mg), given: formatMg(d.given_mg ?? 0) }))
          : null,
      );
    } else {
      main = h(
        "div",
        { id: "blocks", class: "blocks", role: "alert" },
        h("p", { class: "blocks-title" }, t("dispensing.cannot_dispense")),
        h(
          "ul",
          {},
          (d.blocks ?? []).map((block) => h("li", { "data-code": block.code }, ...ruleMessage(block.code, block.message, block.details))),
          d.home_visit ? h("li", { "data-code": "home_visit" }, t("queue.home_visit_note")) : null,
        ),
        d.offline && d.blocks.some((block) => DOCTOR_BLOCKS.has(block.code))
          ? h("p", { id: "offline-needs-doctor", class: "offline-needs-doctor" }, t("offline.needs_doctor"))
          : null,
      );
    }

    decisionEl.replaceChildren(
      h("div", { class: "decision-head" }, photo.el, who, d.can_dispense ? main : null),
      d.can_dispense ? doseForm(d) : main,
    );
    if (!focus) return;
    if (d.can_dispense) {
      decisionEl.querySelector("#identity-confirmed")?.focus();
    } else {
      lookup.focus();
      lookup.select();
    }
  }

  function doseForm(d) {
    const identity = h("input", { type: "checkbox", id: "identity-confirmed", name: "identity_confirmed" });
    const radios = INTOXICATION.map((value) =>
      h("input", { type: "radio", name: "intoxication", id: `intoxication-${value}`, value, checked: value === "clear" }),
    );
    const amount = h("input", { type: "text", name: "dose_mg", inputmode: "decimal", autocomplete: "off", value: mgNumber(d.due_mg), class: "dose-amount" });
    const note = h("input", { type: "text", name: "note", autocomplete: "off" });
    const amountHint = h("p", { id: "dose-mg-hint", class: "amount-hint", role: "status" });
    const give = h("button", { type: "submit", id: "give-dose", class: "button-primary give-button" });

    const intoxication = () => radios.find((radio) => radio.checked)?.value ?? "clear";

    // What the button would do with the amount typed, judged on the numbers of the decision
    // on screen (the same due_mg the server decides with): "give", "refuse" (more than due:
    // the server would answer dose_exceeds_due), "note" (less than due: a note first),
    // "invalid" or "withhold".
    function intent() {
      if (intoxication() !== "clear") return "withhold";
      const mg = parseMg(amount.value);
      if (mg === null || mg <= 0) return "invalid";
      if (mg > d.due_mg) return "refuse";
      if (mg < d.due_mg && !note.value.trim()) return "note";
      return "give";
    }

    function sync() {
      const mg = parseMg(amount.value);
      const state = intent();
      give.classList.toggle("withhold", state === "withhold");
      give.classList.toggle("refuse", state === "refuse");
      give.classList.toggle("needs-note", state === "note");
      give.dataset.state = state;
      // A button that will be refused cannot be pressed; it says why instead.
      give.disabled = giving || state === "refuse" || state === "invalid";
      if (state === "withhold") give.textContent = t("dispensing.withhold");
      else if (state === "refuse") give.textContent = t("dispensing.give_refused", { due: formatMg(d.due_mg) });
      else if (state === "invalid") give.textContent = t("dispensing.give_invalid");
      else if (state === "note") give.textContent = t("dispensing.give_needs_note");
      else give.textContent = t("dispensing.give", { mg: formatMg(mg) });
      form.classList.toggle("identity-missing", !identity.checked);
      let hint = "";
      let kind = "";
      if (amount.value.trim() && mg === null) {
        hint = t("dispensing.amount_invalid");
        kind = "bad";
      } else if (mg !== null && mg < d.due_mg) {
        hint = t("dispensing.amount_lower", { due: formatMg(d.due_mg) });
        kind = "warn";
      } else if (mg !== null && mg > d.due_mg) {
        hint = ruleSentence("dose_exceeds_due", null, { due_mg: d.due_mg }) ?? t("dispensing.amount_higher", { due: formatMg(d.due_mg) });
        kind = "bad";
      }
      amountHint.textContent = hint;
      amountHint.className = `amount-hint ${kind}`;
      amountHint.dataset.code = kind === "bad" && mg !== null ? "dose_exceeds_due" : "";
      amount.setAttribute("aria-invalid", String(kind === "bad"));
      note.required = mg !== null && mg < d.due_mg;
      note.setAttribute("aria-required", String(note.required));
      note.classList.toggle("required-now", state === "note");
    }

    async function onGive() {
      if (giving) return;
      if (!identity.checked) {
        showResult("blocked", ruleMessage("identity_not_confirmed"), { code: "identity_not_confirmed", patient: d.patient });
        identity.focus();
        return;
      }
      const mg = parseMg(amount.value);
      const state = intent();
      if (state === "invalid" || state === "refuse") {
        // Nothing is sent: the amount would be refused. The hint under it says why.
        amount.focus();
        amount.select();
        return;
      }
      if (state === "note") {
        // Less than due: the note comes first; Enter does nothing else until it is written.
        note.focus();
        return;
      }
      const body = {
        patient_id: d.patient.id,
        site_id: siteId(),
        dose_mg: mg,
        identity_confirmed: true,
        intoxication_check: intoxication(),
      };
      if (note.value.trim()) body.note = note.value.trim();
      giving = true;
      give.disabled = true;
      give.textContent = t("dispensing.giving");
      delete give.dataset.state;
      try {
        if (d.offline) onGivenOffline(await offline.give(siteId(), d, body), d.patient);
        else onGiven(await postDose(body), d.patient);
      } catch (error) {
        onRefused(error, d.patient);
      } finally {
        giving = false;
        give.disabled = false;
        if (give.isConnected) sync();
      }
    }

    const form = h(
      "form",
      {
        id: "dose-form",
        class: "dose-form",
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          onGive();
        },
        onkeydown: (event) => {
          if (event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return;
          // A card scanned while the focus sits on the checkbox, a radio or the button is
          // the next patient, not a confirmation: send its characters to the lookup, so
          // that its Enter looks the patient up instead of giving this patient's dose.
          if (event.key.length === 1 && event.key !== " " && !["text", "search"].includes(event.target.type)) {
            lookup.value = "";
            lookup.focus();
            return;
          }
          // Enter anywhere else in the panel gives (radios and the checkbox included).
          if (event.key !== "Enter") return;
          event.preventDefault();
          onGive();
        },
        oninput: sync,
        onchange: sync,
      },
      h(
        "div",
        { class: "dose-checks" },
        h("label", { class: "checkbox identity-check", for: "identity-confirmed" }, identity, t("dispensing.identity")),
        h(
          "fieldset",
          { class: "radio-group intoxication", id: "intoxication" },
          h("legend", {}, t("dispensing.intoxication")),
          radios.map((radio) => h("label", { class: `checkbox radio-${radio.value}`, for: radio.id }, radio, t(`intoxication.${radio.value}`))),
        ),
      ),
      h(
        "div",
        { class: "dose-inputs" },
        h("div", { class: "field amount-field" }, h("label", { for: "dose-mg" }, t("dispensing.amount")), amount, amountHint),
        h(
          "div",
          { class: "field note-field" },
          h("label", { for: "dose-note" }, t("dispensing.note")),
          note,
          h("p", { class: "hint", id: "dose-note-hint" }, t("dispensing.note_hint")),
        ),
        give,
      ),
      h("p", { class: "keys-hint", id: "dose-keys-hint" }, t("dispensing.keys_hint")),
    );
    amount.id = "dose-mg";
    amount.setAttribute("aria-describedby", "dose-mg-hint");
    note.id = "dose-note";
    note.setAttribute("aria-describedby", "dose-note-hint");
    sync();
    return form;
  }

  function onGiven(dose, patient) {
    showResult("ok", t("dispensing.given", { mg: formatMg(dose.dose_mg), time: formatTime(dose.given_at) }), { patient });
    result.dataset.doseId = dose.id;
    lastDose = { ...dose, patient };
    nextPatient();
    refreshQueue();
  }

  /** A dose given (or withheld) offline: queued for upload; no reversal until it is there. */
  function onGivenOffline(given, patient) {
    if (given.withheld) showResult("blocked", t("offline.withheld"), { code: "dose_withheld_intoxicated", patient });
    else showResult("ok-offline", t("offline.given", { mg: formatMg(given.dose_mg), time: formatTime(given.given_at) }), { patient });
    nextPatient();
    refreshQueue();
  }

  async function onRefused(error, patient) {
    if (error.code === "already_dosed_today" && !error.details?.site_name && error.details?.site_id) {
      // The server names the site; if it could not, find the name in our own list.
      const site = (await loadSites().catch(() => [])).find((s) => s.id === error.details.site_id)?.name;
      if (site) error.details = { ...error.details, site_name: site };
    }
    showResult("blocked", [], { code: error.code, patient });
    showRefusal(result, error);
    if (error.code === "network_error") {
      // The line dropped: from now on the window decides from its day sheet.
      result.append(" ", t("dispensing.retry_safe"));
      offline.saw(error);
      refreshQueue();
      await loadDecision(patient.id, { keepResult: true, focus: false });
      decisionEl.querySelector("#identity-confirmed")?.focus();
      return;
    }
    refreshQueue();
    if (STALE_DECISION.has(error.code)) {
      await loadDecision(patient.id, { keepResult: true, focus: false });
      const amount = decisionEl.querySelector("#dose-mg");
      if (error.code === "dose_exceeds_due" && amount) {
        amount.focus();
        amount.select();
      } else {
        lookup.focus();
        lookup.select();
      }
    } else if (error.code === "identity_not_confirmed") {
      decisionEl.querySelector("#identity-confirmed")?.focus();
    } else if (error.code === "validation_failed") {
      decisionEl.querySelector(error.details?.field === "note" ? "#dose-note" : "#dose-mg")?.focus();
    } else {
      decisionEl.querySelector("#give-dose")?.focus();
    }
  }

  /** Empties the lookup and the panel for the next patient; the last result stays. */
  function nextPatient() {
    searchTicket++;
    clearTimeout(searchTimer);
    closeResults();
    lookup.value = "";
    lookupStatus.textContent = "";
    hideDecision();
    lookup.focus();
  }

  // ── Reversal request for the dose just given ───────────────────────────────────
  reverseButton.addEventListener("click", () => {
    reverseForm.hidden = false;
    reverseResult.textContent = "";
    reverseReason.value = "";
    reverseReason.focus();
  });
  reverseCancel.addEventListener("click", () => {
    reverseForm.hidden = true;
    reverseButton.focus();
  });
  reverseForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!lastDose) return;
    const reason = reverseReason.value.trim();
    if (!reason) {
      reverseReason.focus();
      return;
    }
    reverseSubmit.disabled = true;
    try {
      await api.post(`/doses/${encodeURIComponent(lastDose.id)}/reversal`, { reason });
      reverseForm.hidden = true;
      reverseButton.hidden = true;
      result.classList.add("reversal-pending");
      reverseResult.className = "message message-status";
      reverseResult.textContent = t("dispensing.reverse_requested");
      refreshQueue();
      lookup.focus();
    } catch (error) {
      reverseResult.className = "message message-error";
      showRefusal(reverseResult, error);
      if (error.code === "reversal_window_closed") {
        // The dose's day ended while the screen was open: offer the late correction instead.
        reverseForm.hidden = true;
        reverseButton.hidden = true;
        reverseLate.replaceChildren(lateCorrectionRequest(lastDose.id, { idPrefix: "reverse-late-correction" }));
        reverseLate.querySelector("button")?.focus();
        return;
      }
      reverseReason.focus();
    } finally {
      reverseSubmit.disabled = false;
    }
  });

  // ── Esc starts over ─────────────────────────────────────────────────────────────
  container.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (!reverseForm.hidden && reverseForm.contains(event.target)) {
      event.preventDefault();
      reverseForm.hidden = true;
      reverseButton.focus();
      return;
    }
    event.preventDefault();
    clearResult();
    nextPatient();
  });

  container.addEventListener("change", (event) => {
    if (event.target.id !== "site-select") return;
    hideDecision();
    clearResult();
    queue.load(siteId());
    offline.sync(siteId());
    lookup.focus();
  });

  container.classList.add("page-dispensing");
  container.append(
    h(
      "div",
      { class: "dispensing-layout" },
      h(
        "div",
        { class: "dispensing-main" },
        h("div", { class: "page-head" }, pageHeading(t("nav.dispensing")), sitePicker(user)),
        offline.el,
        h(
          "div",
          { class: "lookup", role: "search" },
          h(
            "div",
            { class: "lookup-top" },
            h("label", { for: "patient-lookup", class: "lookup-label" }, t("dispensing.lookup_label")),
            h("p", { id: "patient-lookup-hint", class: "hint" }, t("dispensing.lookup_hint")),
          ),
          h("div", { class: "lookup-box" }, lookup, results),
          lookupStatus,
        ),
        outcome,
        decisionEl,
      ),
      h(
        "aside",
        { class: "dispensing-queue", "aria-labelledby": "queue-heading" },
        h("h2", { id: "queue-heading" }, h("a", { href: "#/queue" }, t("nav.queue"))),
        queue.el,
      ),
    ),
  );

  loadSites()
    .then(async () => {
      if (!container.isConnected || !siteId()) return;
      queue.load(siteId());
      // The sheets behind the queue; when the server cannot be reached, the queue from them.
      offline.sync(siteId()).then((online) => online || refreshQueue());
      const wanted = new URLSearchParams(location.hash.split("?")[1] ?? "").get("patient");
      if (wanted) {
        // Opened from the queue page: load that patient once, then forget the parameter.
        history.replaceState(null, "", "#/dispensing");
        loadDecision(wanted);
      }
    })
    .catch(() => {});
  // Every 15 seconds while offline (is the line back?), else every minute: upload what was
  // given offline, take the sheets afresh, show the queue.
  let ticks = 0;
  repeatWhileShown(container, OFFLINE_RETRY_MS, () => {
    ticks += 1;
    if (offline.isOffline() || ticks % (QUEUE_REFRESH_MS / OFFLINE_RETRY_MS) === 0) syncWindow();
  });
  const onOnline = () => container.isConnected && syncWindow();
  window.addEventListener("online", onOnline);
  onDisconnect(container, () => window.removeEventListener("online", onOnline));
}
