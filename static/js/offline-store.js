// What a dispensing window keeps in the browser (IndexedDB) so that it can go on when the
// server cannot be reached: the day sheets of its site, and the outbox of doses given
// offline, uploaded in order when the line comes back. Nothing here decides: see
// offline-decision.js.

const DB_NAME = "mmt-offline";
const DB_VERSION = 2;
const SHEETS = "sheets"; // key: "site|date"
const OUTBOX = "outbox"; // auto-increment key: the order the doses were given in
const PHOTOS = "photos"; // key: patient id; { blob, date } (the day it was fetched)

let opening = null;

function db() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const store = request.result;
      if (!store.objectStoreNames.contains(SHEETS)) store.createObjectStore(SHEETS);
      if (!store.objectStoreNames.contains(OUTBOX)) store.createObjectStore(OUTBOX, { keyPath: "seq", autoIncrement: true });
      if (!store.objectStoreNames.contains(PHOTOS)) store.createObjectStore(PHOTOS);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => {
      opening = null;
      reject(request.error);
    };
  });
  return opening;
}

/** Runs `work(store)` in one transaction of `name`; resolves with the value `work` requested. */
async function inStore(name, mode, work) {
  const store = await db();
  return new Promise((resolve, reject) => {
    const tx = store.transaction(name, mode);
    let result;
    const request = work(tx.objectStore(name));
    if (request) request.onsuccess = () => (result = request.result);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

const sheetKey = (siteId, date) => `${siteId}|${date}`;

/** Keeps a site's day sheet as the server sent it, with the time it arrived. */
export function saveSheet(sheet, syncedAt) {
  return inStore(SHEETS, "readwrite", (s) => s.put({ ...sheet, synced_at: syncedAt }, sheetKey(sheet.site_id, sheet.date)));
}

/** The day sheet kept for a site and date, or undefined. */
export function loadSheet(siteId, date) {
  return inStore(SHEETS, "readonly", (s) => s.get(sheetKey(siteId, date)));
}

/** Forgets every sheet of other days than `keep` (the dates still wanted). */
export async function pruneSheets(keep) {
  const keys = await inStore(SHEETS, "readonly", (s) => s.getAllKeys());
  const stale = keys.filter((key) => !keep.includes(String(key).split("|")[1]));
  if (stale.length) await inStore(SHEETS, "readwrite", (s) => stale.forEach((key) => s.delete(key)));
}

/** Forgets every sheet and photo (sign-out: a shared terminal's patients go with it). */
export async function clearSheets() {
  await inStore(SHEETS, "readwrite", (s) => s.clear());
  await inStore(PHOTOS, "readwrite", (s) => s.clear());
}

/** Keeps a patient's photo, fetched on `date`. */
export function savePhoto(patientId, blob, date) {
  return inStore(PHOTOS, "readwrite", (s) => s.put({ blob, date }, patientId));
}

/** The kept photo of a patient: { blob, date }, or undefined. */
export function loadPhoto(patientId) {
  return inStore(PHOTOS, "readonly", (s) => s.get(patientId));
}

/** Forgets the photos of everyone but `keep` (patient ids on the kept sheets). */
export async function prunePhotos(keep) {
  const keys = await inStore(PHOTOS, "readonly", (s) => s.getAllKeys());
  const stale = keys.filter((key) => !keep.has(key));
  if (stale.length) await inStore(PHOTOS, "readwrite", (s) => stale.forEach((key) => s.delete(key)));
}

/** Queues a dose given offline: { key, body, token, patient, site_id, given_at }. */
export function queueDose(item) {
  return inStore(OUTBOX, "readwrite", (s) => s.add(item));
}

/** The doses waiting for upload, oldest first. */
export function queuedDoses() {
  return inStore(OUTBOX, "readonly", (s) => s.getAll());
}

/** Takes a dose out of the outbox once the server has answered it for good. */
export function unqueueDose(seq) {
  return inStore(OUTBOX, "readwrite", (s) => s.delete(seq));
}
