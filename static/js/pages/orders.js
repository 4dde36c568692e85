import { h } from "../dom.js";
import { t } from "../i18n.js";
import { renderPlaceholder } from "./placeholder.js";

export function render(container, ctx) {
  const rulesLink = h("p", {}, h("a", { href: "#/rules", id: "rules-link" }, t("orders.rules_link")));
  renderPlaceholder(container, ctx, "orders", { extra: rulesLink });
}
