// Every page of the app: its hash path, its nav key (data-nav), who may open it,
// and who sees it in the navigation (defaults to `roles`). Order = nav order.
// A role's home page is its first nav entry.

const page = (name) => () => import(`./pages/${name}.js`);

export const ROUTES = [
  { path: "/dispensing", key: "dispensing", roles: ["nurse"], load: page("dispensing") },
  { path: "/queue", key: "queue", roles: ["nurse"], load: page("queue") },
  { path: "/home-visits", key: "home-visits", roles: ["nurse"], load: page("home-visits") },
  { path: "/stock", key: "stock", roles: ["nurse"], load: page("stock") },
  { path: "/registers", key: "registers", roles: ["nurse"], load: page("registers") },

  { path: "/patients", key: "patients", roles: ["doctor"], load: page("patients") },
  { path: "/orders", key: "orders", roles: ["doctor"], load: page("orders") },
  { path: "/reviews", key: "reviews", roles: ["doctor"], load: page("reviews") },
  { path: "/tests", key: "tests", roles: ["doctor"], load: page("tests") },
  { path: "/reports", key: "reports", roles: ["doctor"], load: page("reports") },

  { path: "/cases", key: "cases", roles: ["rehab_worker"], load: page("cases") },
  { path: "/alerts", key: "alerts", roles: ["rehab_worker"], load: page("alerts") },
  { path: "/rehab-reports", key: "rehab-reports", roles: ["rehab_worker"], load: page("rehab-reports") },

  { path: "/admin/sites", key: "sites", roles: ["admin"], load: page("sites") },
  { path: "/admin/staff", key: "staff", roles: ["admin"], load: page("staff") },
  { path: "/admin/audit", key: "audit", roles: ["admin"], load: page("audit") },
  { path: "/rules", key: "rules", roles: ["admin", "doctor"], nav: ["admin"], load: page("rules") },
];

export const LOGIN_PATH = "/login";

export function findRoute(path) {
  return ROUTES.find((route) => route.path === path) ?? null;
}

export function navRoutes(role) {
  return ROUTES.filter((route) => (route.nav ?? route.roles).includes(role));
}

export function homePath(role) {
  return navRoutes(role)[0]?.path ?? null;
}
