// The service's clock and the clinic's time zone. A terminal's own clock may be set to
// another zone or drift; every day the UI shows or sends ("today", the day of a dose) and
// every time it prints follows the service (GET /clock), as the register does.
import { api } from "./api.js";

const KEPT_KEY = "mmt.clock"; // the last reading, for a window reloaded while offline
const kept = (() => {
  try {
    return JSON.parse(sessionStorage.getItem(KEPT_KEY)) ?? {};
  } catch {
    return {};
  }
})();
let offsetMs = Number.isFinite(kept.offsetMs) ? kept.offsetMs : 0;
let zone = kept.zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
let synced = null;

/** Reads the service's clock; pages wait for it (clockReady) before they render. */
export function syncClock() {
  synced = api
    .get("/clock")
    .then((clock) => {
      const now = new Date(clock.now).getTime();
      if (!Number.isNaN(now)) offsetMs = now - Date.now();
      if (clock.timezone) zone = clock.timezone;
      sessionStorage.setItem(KEPT_KEY, JSON.stringify({ offsetMs, zone }));
    })
    .catch(() => {
      // Keep the last reading (or the terminal's clock); the page shows any connection problem.
    });
  return synced;
}

export function clockReady() {
  return synced ?? Promise.resolve();
}

/** The service's "now". */
export function serviceNow() {
  return new Date(Date.now() + offsetMs);
}

/** The clinic's IANA time zone (MMT_TIMEZONE). */
export function clinicZone() {
  return zone;
}
