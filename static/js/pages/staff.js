import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { loadSites } from "../sites.js";
import {
  pageHeading, field, messageBox, whileBusy, dataTable, formatDateTime, joinList, splitList, codeLabel, ROLES,
} from "../ui.js";

/**
 * The fields shared by the create and edit forms: name, role, sites (checkboxes, so
 * that several can be picked by keyboard), townships (rehab workers only).
 * Ids are `${prefix}-display-name`, `${prefix}-role`, `${prefix}-sites`, `${prefix}-townships`.
 */
function staffFields(prefix, sites, initial, { lockRole = false } = {}) {
  const chosen = new Set(initial.site_ids ?? []);
  const displayName = h("input", { type: "text", name: "display_name", required: true, autocomplete: "off", value: initial.display_name ?? "" });
  const role = h("select", { name: "role", disabled: lockRole }, ROLES.map((value) => h("option", { value }, codeLabel("role", value))));
  role.value = initial.role ?? ROLES[0];

  const offered = sites.filter((site) => site.active || chosen.has(site.id));
  const boxes = offered.map((site) =>
    h("input", { type: "checkbox", name: "site_ids", id: `${prefix}-site-${site.id}`, value: site.id, checked: chosen.has(site.id) }),
  );
  const siteGroup = h(
    "fieldset",
    { id: `${prefix}-sites`, class: "checkbox-group" },
    h("legend", {}, t("staff.sites")),
    boxes.length
      ? boxes.map((box, i) => h("label", { class: "checkbox" }, box, offered[i].name))
      : h("p", { class: "muted" }, t("staff.no_sites")),
  );

  const townships = h("input", { type: "text", name: "townships", autocomplete: "off", value: (initial.townships ?? []).join(t("common.list_separator")) });
  const townshipsField = field(`${prefix}-townships`, t("staff.townships"), townships, t("staff.townships_hint"));
  const syncRole = () => {
    townshipsField.hidden = role.value !== "rehab_worker";
  };
  role.addEventListener("change", syncRole);
  syncRole();

  return {
    first: displayName,
    nodes: [
      field(`${prefix}-display-name`, t("staff.display_name"), displayName),
      field(`${prefix}-role`, t("staff.role"), role),
      siteGroup,
      townshipsField,
    ],
    read: () => ({
      display_name: displayName.value.trim(),
      role: role.value,
      site_ids: boxes.filter((box) => box.checked).map((box) => box.value),
      townships: role.value === "rehab_worker" ? splitList(townships.value) : [],
    }),
  };
}

export function render(container, { user }) {
  const createSlot = h("div", {}, h("p", { class: "muted" }, t("common.loading")));
  const createStatus = messageBox("staff-create-status", "status");
  const listError = messageBox("staff-list-error", "error");
  const listStatus = messageBox("staff-list-status", "status");
  const editSlot = h("div", { id: "staff-edit-slot" });
  const tbody = h("tbody");
  let sites = [];

  const siteName = (id) => sites.find((site) => site.id === id)?.name ?? id;
  const rowControl = (id, action) =>
    [...tbody.querySelectorAll("tr[data-staff-id]")]
      .find((row) => row.dataset.staffId === id)
      ?.querySelector(`[data-action="${action}"]`);

  function showCreateForm() {
    const username = h("input", { type: "text", name: "username", required: true, autocomplete: "off", autocapitalize: "off", spellcheck: "false" });
    const password = h("input", { type: "password", name: "password", required: true, autocomplete: "new-password" });
    const fields = staffFields("staff", sites, {});
    const submit = h("button", { type: "submit", id: "staff-create-submit", class: "button-primary" }, t("staff.create_submit"));
    const error = messageBox("staff-create-error", "error");

    async function onSubmit(event) {
      event.preventDefault();
      error.clear();
      createStatus.clear();
      const body = { username: username.value.trim(), password: password.value, ...fields.read() };
      try {
        const created = await whileBusy(submit, t("common.saving"), () => api.post("/staff", body));
        createStatus.show(t("staff.created", { name: created.display_name }));
        showCreateForm();
        createSlot.querySelector("#staff-username").focus();
        await showList();
      } catch (err) {
        error.showError(err);
      }
    }

    createSlot.replaceChildren(
      h(
        "form",
        { id: "staff-create-form", class: "form-grid", onsubmit: onSubmit },
        field("staff-username", t("staff.username"), username),
        field("staff-password", t("staff.password"), password),
        ...fields.nodes,
        h("div", { class: "form-actions" }, submit, error.el),
      ),
    );
  }

  function closeEdit(staffId) {
    editSlot.replaceChildren();
    rowControl(staffId, "edit")?.focus();
  }

  function openEdit(member) {
    listStatus.clear();
    const isSelf = member.id === user.id;
    const fields = staffFields("edit", sites, member, { lockRole: isSelf });
    const password = h("input", { type: "password", name: "password", autocomplete: "new-password" });
    const submit = h("button", { type: "submit", id: "staff-edit-submit", class: "button-primary" }, t("common.save"));
    const cancel = h("button", { type: "button", id: "staff-edit-cancel", class: "button-secondary", onclick: () => closeEdit(member.id) }, t("common.cancel"));
    const error = messageBox("staff-edit-error", "error");

    async function onSubmit(event) {
      event.preventDefault();
      error.clear();
      const body = fields.read();
      if (isSelf) delete body.role;
      if (password.value) body.password = password.value;
      try {
        const saved = await whileBusy(submit, t("common.saving"), () => api.patch(`/staff/${encodeURIComponent(member.id)}`, body));
        listStatus.show(t("staff.updated", { name: saved.display_name }));
        await showList();
        closeEdit(member.id);
      } catch (err) {
        error.showError(err);
      }
    }

    editSlot.replaceChildren(
      h(
        "section",
        { class: "panel", "aria-labelledby": "staff-edit-heading" },
        h("h2", { id: "staff-edit-heading" }, t("staff.edit_heading", { name: member.display_name ?? member.username })),
        h(
          "form",
          {
            id: "staff-edit-form",
            class: "form-grid",
            "data-staff-id": member.id,
            onsubmit: onSubmit,
            onkeydown: (event) => event.key === "Escape" && closeEdit(member.id),
          },
          ...fields.nodes,
          field("edit-password", t("staff.new_password"), password, t("staff.new_password_hint")),
          h("div", { class: "form-actions" }, submit, cancel, error.el),
        ),
      ),
    );
    fields.first.focus();
  }

  async function toggleActive(member) {
    listError.clear();
    listStatus.clear();
    try {
      const saved = await api.patch(`/staff/${encodeURIComponent(member.id)}`, { active: !member.active });
      listStatus.show(t(saved.active ? "staff.reactivated" : "staff.deactivated", { name: saved.display_name }));
      await showList();
      rowControl(member.id, "toggle-active")?.focus();
    } catch (err) {
      listError.showError(err);
    }
  }

  function row(member) {
    const isSelf = member.id === user.id;
    return h(
      "tr",
      { "data-staff-id": member.id, "data-active": String(member.active) },
      h("td", { translate: "no" }, member.username),
      h("td", {}, member.display_name),
      h("td", {}, codeLabel("role", member.role)),
      h("td", {}, joinList((member.site_ids ?? []).map(siteName))),
      h("td", {}, joinList(member.townships ?? [])),
      h("td", {}, h("span", { class: member.active ? "badge ok" : "badge blocked" }, t(member.active ? "common.active" : "common.inactive"))),
      h("td", {}, formatDateTime(member.created_at)),
      h(
        "td",
        { class: "actions" },
        h("button", { type: "button", class: "button-secondary", "data-action": "edit", "aria-label": t("staff.edit_named", { name: member.display_name ?? member.username }), onclick: () => openEdit(member) }, t("staff.edit")),
        h(
          "button",
          {
            type: "button",
            class: member.active ? "button-danger" : "button-secondary",
            "data-action": "toggle-active",
            disabled: isSelf,
            "aria-label": t(member.active ? "staff.deactivate_named" : "staff.reactivate_named", { name: member.display_name ?? member.username }),
            onclick: () => toggleActive(member),
          },
          t(member.active ? "staff.deactivate" : "staff.reactivate"),
        ),
      ),
    );
  }

  async function showList() {
    const staff = await api.get("/staff");
    tbody.replaceChildren(
      ...(staff.length ? staff.map(row) : [h("tr", {}, h("td", { colspan: 8, class: "muted" }, t("staff.empty")))]),
    );
  }

  container.append(
    pageHeading(t("nav.staff")),
    h(
      "section",
      { class: "panel", "aria-labelledby": "staff-create-heading" },
      h("h2", { id: "staff-create-heading" }, t("staff.create_heading")),
      createSlot,
      createStatus.el,
    ),
    h(
      "section",
      { "aria-labelledby": "staff-list-heading" },
      h("h2", { id: "staff-list-heading" }, t("staff.list_heading")),
      listError.el,
      listStatus.el,
      dataTable(
        "staff-table",
        [
          t("staff.username"), t("staff.display_name"), t("staff.role"), t("staff.sites"),
          t("staff.townships"), t("common.status"), t("staff.created_at"), t("common.actions"),
        ],
        tbody,
      ),
      editSlot,
    ),
  );

  loadSites()
    .then((loaded) => {
      sites = loaded;
      showCreateForm();
      return showList();
    })
    .catch((err) => {
      createSlot.replaceChildren();
      listError.showError(err);
    });
}
