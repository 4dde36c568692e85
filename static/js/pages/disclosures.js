// For the admin: who outside the clinic saw which patient's information, when, and on
// what basis (an active rehab case in their township, or the patient's consent).
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { pageHeading, field, messageBox, whileBusy, dataTable, codeLabel, formatDateTime, todayIso, addDays } from "../ui.js";

const DEFAULT_DAYS = 30;

export function render(container) {
  const staff = h("select", { name: "staff_id" }, h("option", { value: "" }, t("disclosures.all_staff")));
  const from = h("input", { type: "date", name: "from", value: addDays(todayIso(), -(DEFAULT_DAYS - 1)), max: todayIso() });
  const to = h("input", { type: "date", name: "to", value: todayIso(), max: todayIso() });
  const submit = h("button", { type: "submit", id: "disclosures-filter-submit", class: "button-primary" }, t("audit.filter_submit"));
  const patientChip = h("p", { id: "disclosures-patient-filter", class: "hint", hidden: true });
  const error = messageBox("disclosures-error", "error");
  const status = messageBox("disclosures-status", "info");
  const tbody = h("tbody");
  let patient = null; // { id, no } when narrowed to one patient from a row

  function row(item) {
    return h(
      "tr",
      { "data-disclosure-id": item.id, "data-staff-id": item.staff_id, "data-patient-id": item.patient_id, "data-basis": item.basis },
      h("td", { class: "nowrap" }, formatDateTime(item.at)),
      h("td", {}, item.staff_name),
      h(
        "td",
        { class: "nowrap" },
        h(
          "button",
          {
            type: "button",
            class: "link-button",
            title: t("disclosures.only_patient", { no: item.patient_no }),
            onclick: () => {
              patient = { id: item.patient_id, no: item.patient_no };
              load();
            },
          },
          h("span", { translate: "no" }, item.patient_no ?? ""),
        ),
        item.patient_name ? h("span", {}, " ", item.patient_name) : null,
      ),
      h("td", {}, h("span", { class: "badge", "data-basis": item.basis }, codeLabel("disclosure_basis", item.basis)), item.case_id ? h("span", { class: "muted", translate: item.case_ref ? "no" : null }, " ", item.case_ref ?? t("case.no_ref")) : null),
      h("td", { class: "summary" }, codeLabel("disclosure_what", item.what)),
    );
  }

  async function load() {
    error.clear();
    const params = new URLSearchParams();
    if (staff.value) params.set("staff_id", staff.value);
    if (patient) params.set("patient_id", patient.id);
    if (from.value) params.set("from", from.value);
    if (to.value) params.set("to", to.value);
    patientChip.hidden = !patient;
    patientChip.replaceChildren(
      ...(patient
        ? [
            t("disclosures.patient_filter", { no: patient.no }),
            " ",
            h(
              "button",
              {
                type: "button",
                id: "disclosures-patient-clear",
                class: "link-button",
                onclick: () => {
                  patient = null;
                  load();
                  staff.focus();
                },
              },
              t("audit.filter_clear"),
            ),
          ]
        : []),
    );
    try {
      const items = await api.get(`/disclosures?${params}`);
      tbody.replaceChildren(...items.map(row));
      status.show(items.length ? t("disclosures.count", { n: items.length }) : t("audit.empty"));
    } catch (err) {
      tbody.replaceChildren();
      error.showError(err);
    }
  }

  function onFilter(event) {
    event.preventDefault();
    whileBusy(submit, t("common.loading"), load);
  }

  api.get("/staff").then(
    (members) => {
      const current = staff.value;
      staff.replaceChildren(
        h("option", { value: "" }, t("disclosures.all_staff")),
        ...members.map((member) => h("option", { value: member.id }, t("header.user", { name: member.display_name, role: codeLabel("role", member.role) }))),
      );
      staff.value = current;
    },
    (err) => error.showError(err),
  );

  container.append(
    pageHeading(t("nav.disclosures")),
    h("p", { class: "lead" }, t("disclosures.intro")),
    h(
      "form",
      { id: "disclosures-filter-form", class: "form-grid panel", role: "search", "aria-label": t("disclosures.filter"), onsubmit: onFilter },
      field("disclosures-staff", t("disclosures.staff"), staff),
      field("disclosures-from", t("disclosures.from"), from),
      field("disclosures-to", t("disclosures.to"), to),
      h("div", { class: "form-actions" }, submit),
    ),
    patientChip,
    error.el,
    status.el,
    dataTable("disclosures-table", [t("disclosures.at"), t("disclosures.staff"), t("patient.patient_no"), t("disclosures.basis"), t("disclosures.what")], tbody),
  );
  load();
}
