import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { pageHeading, field, messageBox, whileBusy, dataTable, codeLabel } from "../ui.js";
import { loadSites, forgetSites } from "../sites.js";

export function render(container) {
  const code = h("input", { type: "text", name: "code", required: true, autocomplete: "off" });
  const name = h("input", { type: "text", name: "name", required: true, autocomplete: "off" });
  const kind = h(
    "select",
    { name: "kind" },
    ["dispensary", "clinic"].map((value) => h("option", { value }, t(`kind.${value}`))),
  );
  const address = h("input", { type: "text", name: "address", autocomplete: "off" });
  const submit = h("button", { type: "submit", id: "site-create-submit", class: "button-primary" }, t("sites.create_submit"));
  const formError = messageBox("site-create-error", "error");
  const formStatus = messageBox("site-create-status", "status");
  const listError = messageBox("sites-error", "error");
  const tbody = h("tbody");

  async function onCreate(event) {
    event.preventDefault();
    formError.clear();
    formStatus.clear();
    const body = { code: code.value.trim(), name: name.value.trim(), kind: kind.value };
    if (address.value.trim()) body.address = address.value.trim();
    try {
      const site = await whileBusy(submit, t("common.saving"), () => api.post("/sites", body));
      event.target.reset();
      formStatus.show(t("sites.created", { name: site.name }));
      forgetSites();
      await showList();
      code.focus();
    } catch (error) {
      formError.showError(error);
    }
  }

  async function showList() {
    listError.clear();
    try {
      const sites = await loadSites();
      tbody.replaceChildren(
        ...(sites.length
          ? sites.map((site) =>
              h(
                "tr",
                { "data-site-id": site.id },
                h("td", { translate: "no" }, site.code),
                h("td", {}, site.name),
                h("td", {}, codeLabel("kind", site.kind)),
                h("td", {}, site.address || t("common.empty_value")),
                h("td", {}, h("span", { class: site.active ? "badge ok" : "badge blocked" }, t(site.active ? "common.active" : "common.inactive"))),
              ),
            )
          : [h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("sites.empty")))]),
      );
    } catch (error) {
      listError.showError(error);
    }
  }

  container.append(
    pageHeading(t("nav.sites")),
    h(
      "section",
      { "aria-labelledby": "site-create-heading", class: "panel" },
      h("h2", { id: "site-create-heading" }, t("sites.create_heading")),
      h(
        "form",
        { id: "site-create-form", class: "form-grid", onsubmit: onCreate },
        field("site-code", t("sites.code"), code),
        field("site-name", t("sites.name"), name),
        field("site-kind", t("sites.kind"), kind),
        field("site-address", t("sites.address_optional"), address),
        h("div", { class: "form-actions" }, submit, formError.el, formStatus.el),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "sites-list-heading" },
      h("h2", { id: "sites-list-heading" }, t("sites.list_heading")),
      listError.el,
      dataTable(
        "sites-table",
        [t("sites.code"), t("sites.name"), t("sites.kind"), t("sites.address"), t("common.status")],
        tbody,
      ),
    ),
  );
  showList();
}
