// Shared body of the pages that are not built yet: heading, what the page is for,
// an honest "coming later" note and, for site-bound pages, the site selector.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { pageHeading } from "../ui.js";
import { sitePicker } from "../sites.js";

export function renderPlaceholder(container, { user }, key, { siteBound = false, extra = null } = {}) {
  const parts = [
    pageHeading(t(`nav.${key}`)),
    siteBound ? sitePicker(user) : null,
    h("p", { class: "lead" }, t(`page.${key}.intro`)),
    h("p", { class: "notice placeholder", "data-placeholder": "true" }, t("page.placeholder")),
    extra,
  ];
  container.append(...parts.filter(Boolean));
}
