// Keeps the app's files for a window that loses the line (see /sw.js): registers the service
// worker, and stores the files the page loaded before the worker took control of it.
const CACHE = "mmt-app-v1";

const usable = () => "serviceWorker" in navigator && Boolean(window.caches); // a secure context

/** Registers the worker once, at start. */
export async function keepAppForOffline() {
  if (!usable()) return;
  try {
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    await rememberLoadedFiles();
  } catch {
    // Without the worker the window still works online; only the offline reload is lost.
  }
}

/** Stores every file of the app this page has loaded so far that is not stored yet. */
export async function rememberLoadedFiles() {
  if (!usable()) return;
  const paths = performance
    .getEntriesByType("resource")
    .map((entry) => new URL(entry.name))
    .filter((url) => url.origin === location.origin && !url.pathname.startsWith("/api/"))
    .map((url) => url.pathname);
  try {
    const cache = await caches.open(CACHE);
    for (const path of new Set(["/", ...paths])) {
      if (!(await cache.match(path))) await cache.add(path).catch(() => {});
    }
  } catch {
    // As above: only the offline reload is lost.
  }
}
