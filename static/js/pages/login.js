import { h } from "../dom.js";
import { t } from "../i18n.js";
import { login } from "../api.js";
import { pageHeading, field, messageBox, whileBusy } from "../ui.js";

export function render(container, { notice, onLogin }) {
  const username = h("input", { type: "text", name: "username", autocomplete: "username", required: true, autocapitalize: "off", spellcheck: "false", "data-autofocus": true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", id: "login-submit", class: "button-primary" }, t("login.submit"));
  const error = messageBox("login-error", "error");

  async function onSubmit(event) {
    event.preventDefault();
    error.clear();
    try {
      const user = await whileBusy(submit, t("login.submitting"), () => login(username.value.trim(), password.value));
      onLogin(user);
    } catch (err) {
      error.showError(err);
      if (err.code === "invalid_credentials") {
        password.value = "";
        password.focus();
      }
    }
  }

  container.append(
    h(
      "div",
      { class: "login-panel" },
      pageHeading(t("login.title")),
      notice ? h("p", { class: "notice", id: "login-notice", role: "status" }, t(notice)) : null,
      h(
        "form",
        { id: "login-form", class: "stack", onsubmit: onSubmit },
        field("username", t("login.username"), username),
        field("password", t("login.password"), password),
        error.el,
        submit,
      ),
    ),
  );
}
