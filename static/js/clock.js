// The service's clock and the clinic's time zone. A terminal's own clock may be set to
// another zone or drift; every day the UI shows or sends ("today", the day of a dose) and
// every time it prints follows the service (GET /clock), as the register does.
import { api } from "./api.js";

let offsetMs = 0;
let zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
let synced = null;

/** Reads the service's clock; pages wait for it (clockReady) before they render. */
export function syncClock() {
  synced = api
    .get("/clock")
    .then((clock) => {
      const now = new Date(clock.now).getTime();
      if (!Number.isNaN(now)) offsetMs = now - Date.now();
      if (clock.timezone) zone = clock.timezone;
    })
    .catch(() => {
      // Keep the terminal's clock; the page itself shows any connection problem.
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
