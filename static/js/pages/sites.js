import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { pageHeading, field, messageBox, whileBusy, dataTable, codeLabel } from "../ui.js";
import { loadSites, forgetSites } from "../sites.js";

/**
 * Products (methadone oral solution at its concentration) and the one each site dispenses:
 * 1 mg/mL and 10 mg/mL must never be confused, so every name shows its concentration and a
 * change of a site's product is saved only by its own button.
 */
function productsPanel(sites) {
  const name = h("input", { type: "text", name: "product-name", required: true, autocomplete: "off", placeholder: t("sites.product_name_example") });
  const concentration = h(
    "select",
    { name: "concentration" },
    [1, 2, 5, 10].map((c) => h("option", { value: String(c) }, `${c} mg/mL`)),
  );
  const submit = h("button", { type: "submit", id: "product-create-submit", class: "button-primary" }, t("sites.product_create_submit"));
  const error = messageBox("products-error", "error");
  const status = messageBox("products-status", "status");
  const productRows = h("tbody");
  const siteRows = h("tbody");

  async function onCreate(event) {
    event.preventDefault();
    error.clear();
    status.clear();
    const body = { name: name.value.trim(), concentration_mg_per_ml: Number(concentration.value) };
    try {
      const product = await whileBusy(submit, t("common.saving"), () => api.post("/products", body));
      event.target.reset();
      status.show(t("sites.product_created", { name: product.name, conc: product.concentration_label }));
      await show();
    } catch (e) {
      error.showError(e);
    }
  }

  function siteRow(site, current, products) {
    const label = (p) => `${p.name}（${p.concentration_label}）`;
    const select = h(
      "select",
      { id: `site-product-${site.id}`, "aria-label": t("sites.product_for", { site: site.name }) },
      ...(current.product ? [] : [h("option", { value: "" }, t("sites.product_none"))]),
      ...products.map((p) => h("option", { value: p.id, selected: current.product?.id === p.id }, label(p))),
    );
    const save = h("button", { type: "button", id: `site-product-save-${site.id}`, disabled: true }, t("sites.product_save"));
    select.addEventListener("change", () => {
      save.disabled = !select.value || select.value === current.product?.id;
    });
    save.addEventListener("click", async () => {
      error.clear();
      status.clear();
      try {
        const product = await whileBusy(save, t("common.saving"), () =>
          api.post(`/sites/${encodeURIComponent(site.id)}/product`, { product_id: select.value }),
        );
        status.show(t("sites.product_set", { site: site.name, product: label(product) }));
        await show();
      } catch (e) {
        error.showError(e);
      }
    });
    const how = current.set_at ? t("sites.product_set_by_admin") : current.product ? t("sites.product_only_one") : t("sites.product_missing");
    return h(
      "tr",
      { "data-site-id": site.id, "data-product-id": current.product?.id ?? "" },
      h("td", {}, site.name),
      h("td", {}, h("div", { class: "inline-field" }, select, save)),
      h("td", {}, current.product ? h("span", { class: "muted" }, how) : h("span", { class: "badge blocked" }, how)),
    );
  }

  async function show() {
    try {
      const [products, settings] = await Promise.all([api.get("/products"), api.get("/site-products")]);
      productRows.replaceChildren(
        ...(products.length
          ? products.map((p) => h("tr", { "data-product-id": p.id }, h("td", {}, p.name), h("td", {}, p.concentration_label)))
          : [h("tr", {}, h("td", { colspan: 2, class: "muted" }, t("stock.no_products")))]),
      );
      const bySite = new Map(settings.map((s) => [s.site_id, s]));
      siteRows.replaceChildren(
        ...sites.filter((site) => bySite.has(site.id)).map((site) => siteRow(site, bySite.get(site.id), products)),
      );
    } catch (e) {
      error.showError(e);
    }
  }

  const panel = h(
    "section",
    { "aria-labelledby": "products-heading", class: "panel", id: "products-panel" },
    h("h2", { id: "products-heading" }, t("sites.products_heading")),
    h("p", { class: "hint" }, t("sites.products_hint")),
    dataTable("products-table", [t("sites.product_name"), t("sites.product_concentration")], productRows),
    h(
      "form",
      { id: "product-create-form", class: "form-grid", onsubmit: onCreate },
      field("product-name", t("sites.product_name"), name),
      field("product-concentration", t("sites.product_concentration"), concentration),
      h("div", { class: "form-actions" }, submit),
    ),
    h("h3", {}, t("sites.site_products_heading")),
    dataTable("site-products-table", [t("sites.name"), t("sites.product_dispensed"), t("sites.product_how")], siteRows),
    error.el,
    status.el,
  );
  show();
  return panel;
}

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

  const products = h("div", { id: "products-slot" });

  async function showList() {
    listError.clear();
    try {
      const sites = await loadSites();
      products.replaceChildren(productsPanel(sites));
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
    products,
  );
  showList();
}
