// Doctors: find a patient (name fragment, patient number or the end of the ID number) and
// enrol a new one, with an optional photo uploaded once the record exists.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api, errorText } from "../api.js";
import { loadSites } from "../sites.js";
import { pageHeading, field, messageBox, whileBusy, dataTable, codeLabel, sexAge, todayIso, refusalText } from "../ui.js";

const SEARCH_DELAY_MS = 300;
export const PHOTO_TYPES = ["image/jpeg", "image/png"];
export const PHOTO_MAX_BYTES = 2 * 1024 * 1024;

/** null when the file can be sent as a patient photo, else the text that says why not. */
export function photoProblem(file) {
  if (!PHOTO_TYPES.includes(file.type)) return t("photo.wrong_type");
  if (file.size > PHOTO_MAX_BYTES) return t("photo.too_large");
  return null;
}

/** Uploads a photo file; the error text of a refusal (413 has no JSON body) or null. */
export async function uploadPhoto(patientId, file) {
  try {
    await api.putRaw(`/patients/${encodeURIComponent(patientId)}/photo`, file, file.type);
    return null;
  } catch (error) {
    return error.status === 413 ? t("photo.too_large") : errorText(error);
  }
}

export function render(container) {
  container.append(pageHeading(t("nav.patients")), searchSection(), enrolSection());
}

function searchSection() {
  const input = h("input", { type: "search", name: "q", id: "patient-search", autocomplete: "off", spellcheck: "false", "data-autofocus": true });
  const submit = h("button", { type: "submit", id: "patient-search-submit", class: "button-primary" }, t("patients.search_submit"));
  const status = messageBox("patient-search-status", "info");
  const error = messageBox("patient-search-error", "error");
  const tbody = h("tbody");
  let timer = null;
  let ticket = 0;
  let sites = [];
  loadSites().then((loaded) => (sites = loaded), () => {});
  const siteName = (id) => sites.find((site) => site.id === id)?.name ?? id;

  async function search() {
    clearTimeout(timer);
    const q = input.value.trim();
    const mine = ++ticket;
    error.clear();
    if (!q) {
      tbody.replaceChildren();
      status.show(t("patients.search_prompt"));
      return;
    }
    try {
      const patients = await api.get(`/patients?q=${encodeURIComponent(q)}`);
      if (mine !== ticket) return;
      tbody.replaceChildren(
        ...patients.map((patient) =>
          h(
            "tr",
            { "data-patient-id": patient.id, "data-status": patient.status },
            h("td", {}, patient.patient_no),
            h("td", {}, h("a", { href: `#/patients/${encodeURIComponent(patient.id)}`, "data-patient-link": patient.id }, patient.name)),
            h("td", {}, sexAge(patient)),
            h("td", {}, patient.birth_date),
            h("td", { class: "id" }, patient.id_number_tail ? `…${patient.id_number_tail}` : t("common.empty_value")),
            h("td", {}, siteName(patient.home_site_id)),
            h("td", {}, h("span", { class: patient.status === "active" ? "badge ok" : "badge blocked" }, codeLabel("patient_status", patient.status))),
          ),
        ),
      );
      status.show(patients.length ? t("patients.found", { n: patients.length }) : t("patients.none_found", { q }));
    } catch (err) {
      if (mine === ticket) error.showError(err);
    }
  }

  input.addEventListener("input", (event) => {
    clearTimeout(timer);
    if (!event.isComposing) timer = setTimeout(search, SEARCH_DELAY_MS);
  });
  input.addEventListener("compositionend", () => {
    clearTimeout(timer);
    timer = setTimeout(search, SEARCH_DELAY_MS);
  });
  status.show(t("patients.search_prompt"));

  return h(
    "section",
    { "aria-labelledby": "patient-search-heading" },
    h("h2", { id: "patient-search-heading", class: "visually-hidden" }, t("patients.search_heading")),
    h(
      "form",
      {
        id: "patient-search-form",
        class: "search-row",
        role: "search",
        onsubmit: (event) => {
          event.preventDefault();
          search();
        },
      },
      h("label", { for: "patient-search" }, t("patients.search_label")),
      input,
      submit,
    ),
    error.el,
    status.el,
    dataTable(
      "patients-table",
      [
        t("patient.patient_no"), t("patient.name"), t("patient.sex_age"), t("patient.birth_date"),
        t("patient.id_tail"), t("patient.home_site"), t("common.status"),
      ],
      tbody,
    ),
  );
}

function enrolSection() {
  const input = (name, attrs = {}) => h("input", { type: "text", name, autocomplete: "off", ...attrs });
  const name = input("name", { required: true });
  const idNumber = input("id_number", { required: true, maxlength: 18, spellcheck: "false", autocapitalize: "characters" });
  const sex = h(
    "select",
    { name: "sex", required: true },
    h("option", { value: "" }, t("common.choose")),
    ["M", "F"].map((value) => h("option", { value }, codeLabel("sex", value))),
  );
  const birthDate = h("input", { type: "date", name: "birth_date", required: true, max: todayIso() });
  const phone = input("phone", { type: "tel" });
  const address = input("address");
  const township = input("township", { required: true });
  const homeSite = h("select", { name: "home_site_id", required: true }, h("option", { value: "" }, t("common.loading")));
  const enrolledOn = h("input", { type: "date", name: "enrolled_on", required: true, value: todayIso(), max: todayIso() });
  const risk = h("select", { name: "risk_level", required: true }, [1, 2, 3].map((value) => h("option", { value }, codeLabel("risk", value))));
  const consent = h("input", { type: "checkbox", name: "consent_to_share", id: "enrol-consent-to-share" });
  const photo = h("input", { type: "file", name: "photo", accept: PHOTO_TYPES.join(",") });
  const submit = h("button", { type: "submit", id: "enrol-submit", class: "button-primary" }, t("patients.enrol_submit"));
  const error = messageBox("enrol-error", "error");
  const status = messageBox("enrol-status", "status");
  const fields = { name, id_number: idNumber, sex, birth_date: birthDate, phone, address, township, home_site_id: homeSite, enrolled_on: enrolledOn, risk_level: risk };

  loadSites().then(
    (sites) =>
      homeSite.replaceChildren(
        h("option", { value: "" }, t("common.choose")),
        ...sites.filter((site) => site.active).map((site) => h("option", { value: site.id }, site.name)),
      ),
    (err) => error.showError(err),
  );

  // An 18-character ID number carries the birth date (digits 7–14) and sex (digit 17, odd = male).
  idNumber.addEventListener("change", () => {
    idNumber.value = idNumber.value.trim().toUpperCase();
    const match = /^\d{6}(\d{4})(\d{2})(\d{2})\d{2}(\d)[\dX]$/.exec(idNumber.value);
    if (!match) return;
    if (!birthDate.value) birthDate.value = `${match[1]}-${match[2]}-${match[3]}`;
    if (!sex.value) sex.value = Number(match[4]) % 2 ? "M" : "F";
  });

  function markInvalid(fieldName) {
    for (const control of Object.values(fields)) control.removeAttribute("aria-invalid");
    const control = fields[fieldName];
    if (control) {
      control.setAttribute("aria-invalid", "true");
      control.focus();
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    error.clear();
    status.clear();
    delete error.el.dataset.code;
    const file = photo.files[0];
    if (file && photoProblem(file)) {
      error.show(photoProblem(file));
      photo.focus();
      return;
    }
    const body = {
      name: name.value.trim(),
      id_number: idNumber.value.trim().toUpperCase(),
      sex: sex.value,
      birth_date: birthDate.value,
      township: township.value.trim(),
      home_site_id: homeSite.value,
      enrolled_on: enrolledOn.value,
      risk_level: Number(risk.value),
      consent_to_share: consent.checked,
    };
    if (phone.value.trim()) body.phone = phone.value.trim();
    if (address.value.trim()) body.address = address.value.trim();
    let patient;
    try {
      patient = await whileBusy(submit, t("common.saving"), () => api.post("/patients", body));
    } catch (err) {
      error.el.dataset.code = err.code;
      if (err.code === "duplicate_patient") {
        const existing = err.details?.patient_id;
        error.el.replaceChildren(refusalText(err));
        if (existing) error.el.append(" ", h("a", { href: `#/patients/${encodeURIComponent(existing)}`, id: "enrol-existing" }, t("patients.open_existing")));
        idNumber.setAttribute("aria-invalid", "true");
        idNumber.focus();
      } else {
        error.showError(err);
        if (err.details?.field) markInvalid(err.details.field);
      }
      return;
    }
    const detailPath = `#/patients/${encodeURIComponent(patient.id)}`;
    if (file) {
      const problem = await whileBusy(submit, t("photo.uploading"), () => uploadPhoto(patient.id, file));
      if (problem) {
        error.el.replaceChildren(
          t("patients.created_photo_failed", { no: patient.patient_no, problem }),
          " ",
          h("a", { href: detailPath, id: "enrol-open-created" }, t("patients.open_created")),
        );
        return;
      }
    }
    status.show(t("patients.created", { name: patient.name, no: patient.patient_no }));
    location.hash = detailPath;
  }

  return h(
    "section",
    { class: "panel", "aria-labelledby": "enrol-heading" },
    h("h2", { id: "enrol-heading" }, t("patients.enrol_heading")),
    h(
      "form",
      { id: "enrol-form", class: "form-grid", onsubmit: onSubmit, oninput: (event) => event.target.removeAttribute("aria-invalid") },
      field("enrol-name", t("patient.name"), name),
      field("enrol-id-number", t("patient.id_number"), idNumber, t("patients.id_number_hint")),
      field("enrol-sex", t("patient.sex"), sex),
      field("enrol-birth-date", t("patient.birth_date"), birthDate),
      field("enrol-phone", t("patient.phone_optional"), phone),
      field("enrol-address", t("patient.address_optional"), address),
      field("enrol-township", t("patient.township"), township),
      field("enrol-home-site-id", t("patient.home_site"), homeSite),
      field("enrol-enrolled-on", t("patient.enrolled_on"), enrolledOn),
      field("enrol-risk-level", t("patient.risk_level"), risk),
      field("enrol-photo", t("patient.photo_optional"), photo, t("photo.hint")),
      h("div", { class: "field consent-field" }, h("label", { class: "checkbox", for: "enrol-consent-to-share" }, consent, t("patient.consent_to_share"))),
      h("div", { class: "form-actions" }, submit, error.el, status.el),
    ),
  );
}
