// The window opens when the server cannot be reached: every file of the app is kept when it
// is fetched, and served from here when the network fails (network first: online, the
// browser always gets the server's current files). The API is never kept: the day sheet
// lives in IndexedDB (js/offline-store.js), and nothing else is wanted offline.
const CACHE = "mmt-app-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  // The page is one document; its routes are in the hash.
  const key = request.mode === "navigate" ? "/" : url.pathname;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
        }
        return response;
      })
      .catch(async () => (await caches.match(key)) ?? Response.error()),
  );
});
