// Every page of the app: its hash path, its nav key (data-nav), who may open it,
// and who sees it in the navigation (defaults to `roles`). Order = nav order.
// A role's home page is its first nav entry. A path segment ":name" matches one segment
// of the hash path and reaches the page as ctx.params.name.

const page = (name) => () => import(`./pages/${name}.js`);

export const ROUTES = [
  { path: "/dispensing", key: "dispensing", roles: ["nurse"], load: page("dispensing") },
  { path: "/queue", key: "queue", roles: ["nurse"], load: page("queue") },
  { path: "/home-visits", key: "home-visits", roles: ["nurse"], load: page("home-visits") },
  { path: "/stock", key: "stock", roles: ["nurse"], load: page("stock") },
  { path: "/registers", key: "registers", roles: ["nurse"], load: page("registers") },

  { path: "/patients", key: "patients", roles: ["doctor"], load: page("patients") },
  { path: "/patients/:id", key: "patients", roles: ["doctor"], nav: [], load: page("patient") },
  { path: "/orders", key: "orders", roles: ["doctor"], load: page("orders") },
  { path: "/reviews", key: "reviews", roles: ["doctor"], load: page("reviews") },
  { path: "/tests", key: "tests", roles: ["doctor"], load: page("tests") },
  { path: "/reports", key: "reports", roles: ["doctor"], load: page("reports") },

  { path: "/cases", key: "cases", roles: ["rehab_worker"], load: page("cases") },
  // Doctors and the admin see alerts too; the admin's nav entry sits with the admin pages below.
  { path: "/alerts", key: "alerts", roles: ["rehab_worker", "doctor", "admin"], nav: ["rehab_worker", "doctor"], load: page("alerts") },
  { path: "/rehab-reports", key: "rehab-reports", roles: ["rehab_worker"], load: page("rehab-reports") },

  { path: "/admin/sites", key: "sites", roles: ["admin"], load: page("sites") },
  { path: "/admin/staff", key: "staff", roles: ["admin"], load: page("staff") },
  { path: "/admin/audit", key: "audit", roles: ["admin"], load: page("audit") },
  // Nav entry only: findRoute answers /alerts with the entry above, which admits the admin.
  { path: "/alerts", key: "alerts", roles: [], nav: ["admin"], load: page("alerts") },
  { path: "/admin/disclosures", key: "disclosures", roles: ["admin"], load: page("disclosures") },
  { path: "/rules", key: "rules", roles: ["admin", "doctor"], nav: ["admin"], load: page("rules") },
];

export const LOGIN_PATH = "/login";

/** The route for a hash path, with `params` from its ":name" segments, or null. */
export function findRoute(path) {
  const parts = path.split("/");
  for (const route of ROUTES) {
    const pattern = route.path.split("/");
    if (pattern.length !== parts.length) continue;
    const params = {};
    const matches = pattern.every((segment, i) => {
      if (!segment.startsWith(":")) return segment === parts[i];
      if (!parts[i]) return false;
      try {
        params[segment.slice(1)] = decodeURIComponent(parts[i]);
      } catch {
        return false;
      }
      return true;
    });
    if (matches) return { ...route, params };
  }
  return null;
}

export function navRoutes(role) {
  return ROUTES.filter((route) => (route.nav ?? route.roles).includes(role));
}

export function homePath(role) {
  return navRoutes(role)[0]?.path ?? null;
}
