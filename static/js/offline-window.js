// A dispensing window that keeps working when the server cannot be reached. Online, it keeps
// the site's day sheet (today's, and tomorrow's from 18:00) in the browser; offline, it
// decides from the sheet with the same rules as the server (offline-decision.js), only for
// the patients the sheet assigns to this site today, and queues each dose with an
// idempotency key and the terminal's clock reading. Back online, the queue is uploaded in
// the order the doses were given; a dose the server will not record comes back as an
// incident for a doctor, never as a second dose.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { api, accessToken, uploadOfflineDose } from "./api.js";
import { serviceNow } from "./clock.js";
import { decideOffline, withDose, withWithheld } from "./offline-decision.js";
import {
  saveSheet, loadSheet, pruneSheets, queueDose, queuedDoses, unqueueDose, savePhoto, loadPhoto, prunePhotos,
} from "./offline-store.js";
import { addDays, formatTime, newUuid, todayIso } from "./ui.js";

// The server fixes the next day's sheet at 18:00 the evening before (SHEETS_FIXED_AT_HOUR).
const SHEETS_FIXED_AT_HOUR = 18;

/** Clinic wall-clock hour of the service's now. */
function clinicHour() {
  return Number(formatTime(serviceNow().toISOString()).slice(0, 2));
}

export function offlineWindow() {
  const banner = h("div", { id: "offline-banner", class: "offline-banner", role: "status", "aria-live": "polite", hidden: true });
  const conflicts = h("ul", { id: "offline-conflicts", class: "offline-conflicts", role: "alert" });
  const el = h("div", { class: "offline-window" }, banner, conflicts);
  let offline = false;
  let signInNeeded = false;
  let pending = 0;
  let syncedAt = null; // when today's sheet last arrived
  let draining = null;
  let fetchingPhotos = null;
  let syncing = null;

  function render() {
    let text = "";
    if (offline) {
      text = syncedAt
        ? t("offline.banner", { time: formatTime(syncedAt), n: pending })
        : t("offline.banner_no_sheet", { n: pending });
    } else if (signInNeeded && pending > 0) {
      text = t("offline.sign_in_to_upload", { n: pending });
    } else if (pending > 0) {
      text = t("offline.uploading", { n: pending });
    }
    banner.hidden = !text;
    banner.textContent = text;
    banner.className = offline ? "offline-banner offline" : "offline-banner";
    el.dataset.offline = String(offline);
    el.dataset.pending = String(pending);
  }

  /** Notes the outcome of a request to the server: a network error means offline. */
  function saw(error) {
    const was = offline;
    offline = error?.code === "network_error";
    if (was !== offline) render();
    return offline;
  }

  function conflictLine(item, error) {
    const reason = error.details?.reason ?? error.code;
    conflicts.append(
      h(
        "li",
        { "data-code": error.code, "data-reason": reason, "data-patient-id": item.patient_id },
        t("offline.not_recorded", { name: item.patient_name, time: formatTime(item.given_at), reason: t(`error.${reason}`) }),
      ),
    );
  }

  /** Uploads the queued doses in the order they were given; stops at the first network error. */
  function drain() {
    draining ??= (async () => {
      for (const item of await queuedDoses()) {
        try {
          await uploadOfflineDose(item.body, item.key, item.token);
        } catch (error) {
          if (error.code === "network_error") {
            saw(error);
            break;
          }
          if (error.status === 401) {
            // The token ran past its dose day or the session ended: kept until someone signs in.
            signInNeeded = true;
            break;
          }
          // Answered for good: a withheld dose is recorded as such; anything else the server
          // would not record is an incident a doctor now sees.
          if (!(error.code === "dose_withheld_intoxicated" && item.body.intoxication_check !== "clear")) {
            conflictLine(item, error);
          }
        }
        signInNeeded = false;
        offline = false;
        await unqueueDose(item.seq);
      }
      pending = (await queuedDoses()).length;
      render();
    })().finally(() => {
      draining = null;
    });
    return draining;
  }

  /**
   * Uploads what is queued, then takes the site's sheets afresh; resolves to whether the
   * server answered. One at a time: a lost line can take long to fail.
   */
  function sync(siteId) {
    syncing ??= syncOnce(siteId).finally(() => {
      syncing = null;
    });
    return syncing;
  }

  async function syncOnce(siteId) {
    await drain();
    if (!offline && pending === 0) {
      try {
        const today = todayIso();
        const dates = [today];
        if (clinicHour() >= SHEETS_FIXED_AT_HOUR) dates.push(addDays(today, 1));
        const people = new Set();
        for (const date of dates) {
          const sheet = await api.get(`/sites/${encodeURIComponent(siteId)}/day-sheet?date=${date}`);
          const now = serviceNow().toISOString();
          await saveSheet(sheet, now);
          if (date === today) syncedAt = now;
          keepPhotos(sheet, today);
          sheet.lines.forEach((line) => people.add(line.patient_id));
        }
        await pruneSheets(dates);
        await prunePhotos(people);
        saw(null);
      } catch (error) {
        saw(error);
      }
    }
    if (offline) syncedAt = (await loadSheet(siteId, todayIso()))?.synced_at ?? null;
    render();
    return !offline;
  }

  /**
   * Fetches, in the background, the photos of a sheet's patients not fetched today (once a
   * day each), so that the window still shows the face to compare when offline.
   */
  function keepPhotos(sheet, today) {
    fetchingPhotos ??= (async () => {
      for (const line of sheet.lines.filter((l) => l.has_photo)) {
        if ((await loadPhoto(line.patient_id))?.date === today) continue;
        const blob = await api.blob(`/patients/${encodeURIComponent(line.patient_id)}/photo`).catch(() => null);
        if (blob) await savePhoto(line.patient_id, blob, today);
      }
    })()
      .catch(() => {})
      .finally(() => {
        fetchingPhotos = null;
      });
  }

  async function todaysLine(siteId, patientId) {
    const sheet = await loadSheet(siteId, todayIso());
    return { sheet, line: sheet?.lines.find((l) => l.patient_id === patientId) ?? null };
  }

  return {
    el,
    saw,
    sync,
    drain,
    isOffline: () => offline,

    /** The patients of today's sheet matching a card number exactly or a name in part. */
    async search(siteId, text) {
      const sheet = await loadSheet(siteId, todayIso());
      const lower = text.toLowerCase();
      return (sheet?.lines ?? [])
        .filter((l) => l.patient_no.toLowerCase() === lower || l.name.includes(text))
        .map((l) => ({ id: l.patient_id, patient_no: l.patient_no, name: l.name, status: "active", offline: true }));
    },

    /**
     * The decision for a patient from today's sheet, shaped like the server's; null when the
     * patient is not on this site's sheet today.
     */
    async decision(siteId, patientId) {
      const { sheet, line } = await todaysLine(siteId, patientId);
      if (!line) return null;
      const d = decideOffline(line.entry, serviceNow());
      const last = line.entry.doses.at(-1);
      const lastDose = last
        ? { dose_day: sheet.date, given_at: last.given_at, dose_mg: last.deci_mg / 10 }
        : line.last_dose;
      return {
        offline: true,
        date: sheet.date,
        due_mg: d.due_deci_mg / 10,
        day_total_mg: d.day_total_deci_mg / 10,
        given_mg: d.given_deci_mg / 10,
        can_dispense: d.can_dispense && !line.home_visit,
        portion: d.portion,
        missed_days: d.missed_days,
        home_visit: line.home_visit,
        blocks: d.blocks.map((b) => ({ code: b.code, message: "", details: b.details ?? {} })),
        last_dose: lastDose ?? null,
        patient: { id: line.patient_id, patient_no: line.patient_no, name: line.name, has_photo: line.has_photo, status: "active" },
      };
    },

    /** The queue rows of today's sheet, as the server's queue would show them. */
    async queueEntries(siteId) {
      const sheet = await loadSheet(siteId, todayIso());
      return (sheet?.lines ?? []).map((line) => {
        const d = decideOffline(line.entry, serviceNow());
        const last = line.entry.doses.at(-1);
        const dosed = !d.can_dispense && d.given_deci_mg > 0;
        return {
          patient_id: line.patient_id,
          patient_no: line.patient_no,
          name: line.name,
          state: line.home_visit ? "home_visit" : d.can_dispense ? "due" : dosed ? "dosed" : "blocked",
          due_mg: d.due_deci_mg / 10,
          given_mg: d.given_deci_mg / 10,
          day_total_mg: d.day_total_deci_mg / 10,
          missed_days: d.missed_days,
          guest: line.guest,
          blocks: d.blocks.map((b) => ({ code: b.code, message: "", details: b.details ?? {} })),
          last_given_at: last?.given_at ?? null,
          release_requests: [],
        };
      });
    },

    /**
     * Gives (or withholds) a dose offline: queued with a new key, the terminal's reading and
     * the nurse's token, and entered on the kept sheet so that the window decides the rest of
     * the day with it. Returns what the window shows.
     */
    async give(siteId, decision, body) {
      const givenAt = serviceNow().toISOString();
      const { sheet, line } = await todaysLine(siteId, decision.patient.id);
      if (!line) throw new Error("not on the sheet");
      const withheld = body.intoxication_check !== "clear";
      await queueDose({
        key: newUuid(),
        body: { ...body, offline: { terminal_given_at: givenAt } },
        token: accessToken(),
        site_id: siteId,
        patient_id: line.patient_id,
        patient_name: line.name,
        given_at: givenAt,
      });
      line.entry = withheld
        ? withWithheld(line.entry)
        : withDose(line.entry, { portion: decision.portion, deci_mg: Math.round(body.dose_mg * 10), given_at: givenAt });
      await saveSheet(sheet, sheet.synced_at);
      pending = (await queuedDoses()).length;
      render();
      return { withheld, dose_mg: body.dose_mg, given_at: givenAt };
    },

    /**
     * Whether a dose this window gave the patient offline is still waiting for upload (after
     * trying to upload it now): the server's decision would not know of it.
     */
    async waitingFor(patientId) {
      if (!offline) await drain();
      return (await queuedDoses()).some((item) => item.patient_id === patientId);
    },

    /** The kept photo of a patient as a Blob (throws when none was kept). */
    async photo(patientId) {
      const kept = await loadPhoto(patientId);
      if (!kept) throw Object.assign(new Error("no photo kept"), { status: 404 });
      return kept.blob;
    },
  };
}
