// The shell: header, role-based navigation and the hash router.
import { h } from "./dom.js";
import { t, getLang, setLang, onLangChange, translateDocument } from "./i18n.js";
import { api, currentUser, setCurrentUser, logout, onSessionEnd } from "./api.js";
import { LOGIN_PATH, findRoute, homePath, navRoutes } from "./routes.js";
import { pageHeading, codeLabel } from "./ui.js";
import { syncClock, clockReady } from "./clock.js";
import { keepAppForOffline, rememberLoadedFiles } from "./app-cache.js";
import { clearSheets } from "./offline-store.js";

const main = document.getElementById("main");
const nav = document.getElementById("main-nav");
const userLabel = document.getElementById("current-user");
const logoutButton = document.getElementById("logout");
const langSwitch = document.getElementById("lang-switch");

// Shown on the login page after the session was lost; cleared by a successful sign-in.
let loginNotice = null;
// Bumped on each render so that a slow page import cannot overwrite a newer page.
let renderCount = 0;

function currentPath() {
  return location.hash.replace(/^#/, "").split("?")[0] || "/";
}

function navigate(path) {
  if (currentPath() === path) route();
  else location.hash = path;
}

function redirect(path) {
  location.replace(`#${path}`);
}

function renderHeader(user, activeKey) {
  langSwitch.value = getLang();
  userLabel.hidden = logoutButton.hidden = nav.hidden = !user;
  userLabel.textContent = user ? t("header.user", { name: user.display_name, role: codeLabel("role", user.role) }) : "";
  nav.setAttribute("aria-label", t("nav.label"));
  const links = user
    ? navRoutes(user.role).map((item, index) =>
        h(
          "a",
          {
            href: `#${item.path}`,
            "data-nav": item.key,
            "aria-current": item.key === activeKey ? "page" : null,
            "aria-keyshortcuts": index < 9 ? `Alt+${index + 1}` : null,
            title: index < 9 ? t("nav.shortcut", { n: index + 1 }) : null,
          },
          index < 9 ? h("span", { class: "nav-key", "aria-hidden": "true" }, index + 1) : null,
          t(`nav.${item.key}`),
        ),
      )
    : [];
  nav.replaceChildren(h("ul", {}, links.map((link) => h("li", {}, link))));
}

/** Replaces the page; moves focus to its [data-autofocus] field or its heading unless told not to. */
async function show(loadModule, ctx, activeKey, keepFocus) {
  const ticket = ++renderCount;
  renderHeader(ctx.user, activeKey);
  let module;
  try {
    module = await loadModule();
  } catch {
    if (ticket === renderCount) main.replaceChildren(h("p", { class: "message message-error", role: "alert" }, t("error.page_load")));
    return;
  }
  // Dates on every page follow the service's clock and the clinic's zone.
  if (ctx.user) await clockReady();
  if (ticket !== renderCount) return;
  const container = h("div", { class: "page", "data-page": activeKey ?? "login" });
  main.replaceChildren(container);
  module.render(container, ctx);
  rememberLoadedFiles();
  if (!keepFocus) (container.querySelector("[data-autofocus]") ?? container.querySelector("#page-title"))?.focus();
}

function route({ keepFocus = false } = {}) {
  const user = currentUser();
  const path = currentPath();
  if (!user) {
    if (path !== LOGIN_PATH) return redirect(LOGIN_PATH);
    return show(() => import("./pages/login.js"), { user: null, notice: loginNotice, onLogin }, null, keepFocus);
  }
  const home = homePath(user.role);
  if (!home) {
    renderHeader(user, null);
    main.replaceChildren(pageHeading(t("app.unknown_role", { role: user.role })));
    return;
  }
  const target = findRoute(path);
  if (!target || !target.roles.includes(user.role)) return redirect(home);
  return show(target.load, { user, params: target.params }, target.key, keepFocus);
}

function onLogin(user) {
  loginNotice = null;
  syncClock();
  navigate(homePath(user.role) ?? "/");
}

// Alt+1 … Alt+9 open the n-th navigation item (physical digit keys, any layout).
function onShortcut(event) {
  const match = /^Digit([1-9])$/.exec(event.code);
  if (!match || !event.altKey || event.ctrlKey || event.metaKey || nav.hidden) return;
  const link = nav.querySelectorAll("a[data-nav]")[Number(match[1]) - 1];
  if (!link) return;
  event.preventDefault();
  link.click();
}

async function onLogout() {
  await logout();
  // The day sheets hold patients' names: a shared terminal forgets them (doses still waiting
  // for upload stay, and go up at the next sign-in at a window).
  await clearSheets().catch(() => {});
  loginNotice = null;
  navigate(LOGIN_PATH);
}

/** Picks up changes to the signed-in user (role, name, sites) made since sign-in. */
async function refreshUser() {
  if (!currentUser()) return;
  syncClock();
  try {
    const user = await api.get("/me");
    if (JSON.stringify(user) !== JSON.stringify(currentUser())) {
      setCurrentUser(user);
      route({ keepFocus: true });
    }
  } catch {
    // A lost session is handled by onSessionEnd; other errors show up on the page itself.
  }
}

onSessionEnd(() => {
  loginNotice = "login.session_expired";
  navigate(LOGIN_PATH);
});
onLangChange(() => route({ keepFocus: true }));
langSwitch.addEventListener("change", () => setLang(langSwitch.value));
logoutButton.addEventListener("click", onLogout);
document.addEventListener("keydown", onShortcut);
document.getElementById("skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", () => route());

translateDocument();
if (currentUser()) syncClock();
route();
refreshUser();
keepAppForOffline();
