// Patient photos sit behind the sign-in, so an <img src> cannot fetch them: we fetch the
// bytes with the token and show them through an object URL, revoked when replaced.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { onDisconnect } from "./ui.js";

/**
 * A photo frame (id `id`) that shows one patient's photo at a time.
 * frame.show(patientId, hasPhoto, name, load) loads it; frame.clear() empties it. Object URLs are
 * revoked when the next photo replaces them and when the frame leaves the page.
 */
export function photoFrame(id, { large = false } = {}) {
  const el = h("div", { class: large ? "photo-frame large" : "photo-frame", id, "data-photo": "none" });
  let url = null;
  let ticket = 0;

  function release() {
    if (url) URL.revokeObjectURL(url);
    url = null;
  }

  function empty(key) {
    el.dataset.photo = "none";
    el.replaceChildren(h("span", { class: "photo-empty" }, t(key)));
  }

  /** `load` fetches the photo (a Blob); by default from the server. */
  async function show(patientId, hasPhoto, name = "", load = null) {
    const mine = ++ticket;
    release();
    if (!hasPhoto) return empty("photo.none");
    el.dataset.photo = "loading";
    el.replaceChildren(h("span", { class: "photo-empty" }, t("common.loading")));
    try {
      const blob = await (load ? load() : api.blob(`/patients/${encodeURIComponent(patientId)}/photo`));
      const fresh = URL.createObjectURL(blob);
      if (mine !== ticket || !el.isConnected) {
        URL.revokeObjectURL(fresh);
        return;
      }
      url = fresh;
      el.dataset.photo = "shown";
      el.replaceChildren(h("img", { src: fresh, alt: t("photo.alt", { name }) }));
    } catch (error) {
      if (mine === ticket) empty(error.status === 404 ? "photo.none" : "photo.failed");
    }
  }

  function clear() {
    ticket++;
    release();
    el.dataset.photo = "none";
    el.replaceChildren();
  }

  onDisconnect(el, release);
  return { el, show, clear };
}
