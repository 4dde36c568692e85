// The rules the service enforces, in words: what each rule says, its value in force (the
// RuleSet, GET /rules) and what a refusal under it is called. The same table, with the
// parameter names and codes, is docs/clinical-rules.md.
import { h } from "../dom.js";
import { t, hasText } from "../i18n.js";
import { api } from "../api.js";
import { pageHeading, messageBox, dataTable } from "../ui.js";
import { RULE_GROUPS } from "../rules-catalog.js";

/** The value with its unit, in words ("200 mg", "3 天", "1.0 mL"). */
function valueText(value, unit) {
  if (value === null || value === undefined) return t("common.empty_value");
  if (unit === "deci_ml") return t("rules.unit.ml", { v: (Number(value) / 10).toFixed(1) });
  return t(`rules.unit.${unit}`, { v: value });
}

function outcome(rule) {
  if (!rule.code) return h("span", { class: "muted" }, t(`rule_outcome.${rule.key}`));
  const label = hasText(`error.${rule.code}`) ? t(`error.${rule.code}`) : t(`rule_outcome.${rule.key}`);
  return h("span", { "data-code": rule.code }, label);
}

export function render(container) {
  const error = messageBox("rules-error", "error");
  const slot = h("div", { id: "rules-slot" });
  container.append(pageHeading(t("nav.rules")), h("p", { class: "lead" }, t("rules.intro")), error.el, slot);
  api.get("/rules").then(
    (rules) => {
      slot.replaceChildren(
        ...RULE_GROUPS.map((group) =>
          h(
            "section",
            { class: "panel rules-group", "aria-labelledby": `rules-${group.key}` },
            h("h2", { id: `rules-${group.key}` }, t(`rules.group.${group.key}`)),
            dataTable(
              `rules-table-${group.key}`,
              [t("rules.rule"), t("rules.value"), t("rules.refusal")],
              h(
                "tbody",
                {},
                group.rules.map((rule) =>
                  h(
                    "tr",
                    { "data-rule": rule.key },
                    h("td", {}, t(`rule_param.${rule.key}`)),
                    h("td", { class: "num nowrap" }, valueText(rules[rule.key], rule.unit)),
                    h("td", {}, outcome(rule)),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    },
    (err) => error.showError(err),
  );
}
