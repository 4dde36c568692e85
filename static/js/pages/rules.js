import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { pageHeading, messageBox, dataTable } from "../ui.js";

/** [["a.b", 1], ...]: nested objects become dotted keys; arrays and scalars are values. */
function flatten(value, prefix = "") {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [[prefix, value]];
  return Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
}

function display(value) {
  if (value === null || value === undefined || value === "") return t("common.empty_value");
  if (typeof value === "boolean") return t(value ? "common.yes" : "common.no");
  if (Array.isArray(value)) return value.map(display).join(t("common.list_separator"));
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function render(container) {
  const error = messageBox("rules-error", "error");
  const tbody = h("tbody");
  container.append(
    pageHeading(t("nav.rules")),
    h("p", { class: "lead" }, t("rules.intro")),
    error.el,
    dataTable("rules-table", [t("rules.key"), t("rules.value")], tbody),
  );
  api.get("/rules").then(
    (rules) => {
      const entries = flatten(rules);
      tbody.replaceChildren(
        ...entries.map(([key, value]) =>
          h("tr", { "data-rule": key }, h("th", { scope: "row" }, h("code", {}, key)), h("td", {}, display(value))),
        ),
      );
    },
    (err) => error.showError(err),
  );
}
