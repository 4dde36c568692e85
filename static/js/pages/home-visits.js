// The site's home-visit run sheet for today, in visit order, and each visit's steps on a
// phone-sized card: check-out (a second nurse confirms), arrival, delivered with the
// observed time / not home / refused, and the return of an undelivered dose (a second
// nurse confirms). Only the step the server would accept next is offered.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { api, currentUser } from "../api.js";
import { sitePicker, selectedSiteId, loadSites } from "../sites.js";
import {
  pageHeading,
  messageBox,
  whileBusy,
  codeLabel,
  formatMg,
  formatTime,
  clinicNowLocal,
  clinicInstant,
  ruleMessage,
  showRefusal,
  openPdf,
  todayIso,
  repeatWhileShown,
  retryablePost,
} from "../ui.js";

const REFRESH_MS = 60_000;

/** "30 mg · 30 mL（1 mg/mL）": every volume names its concentration. */
export function doseWithVolume(dose) {
  if (!dose) return "";
  const conc = dose.product ? dose.product.concentration_label : "";
  return t("hv.dose_volume", { mg: formatMg(dose.dose_mg), ml: String(dose.volume_ml), conc });
}

function stepLine(step) {
  const what = step.step === "outcome" ? codeLabel("hv.state", step.outcome) : codeLabel("hv.step", step.step);
  const time = formatTime(step.observed_at ?? step.at);
  return h("li", { "data-step": step.step }, `${time} ${what} · ${step.staff_name ?? ""}${step.note ? ` · ${step.note}` : ""}`);
}

function visitCard(visit, me, reload) {
  const box = messageBox(`hv-msg-${visit.id}`, "error");
  // The outcome is sent from the door, often on a weak signal: a retry must not record twice.
  const postOutcome = retryablePost(`/home-visits/${visit.id}/outcome`);
  const act = async (button, path, body) => {
    box.clear();
    const send = () => (path === "outcome" ? postOutcome(body) : api.post(`/home-visits/${visit.id}/${path}`, body));
    try {
      await whileBusy(button, t("common.loading"), send);
      reload();
    } catch (error) {
      showRefusal(box.el, error);
    }
  };
  const button = (id, label, path, body = () => ({}), cls = "") =>
    h("button", { type: "button", id: `${id}-${visit.id}`, class: cls, onclick: (e) => act(e.currentTarget, path, body()) }, label);

  const actions = [];
  const awaiting = visit.awaiting_confirmation;
  const mine = visit.awaiting_by === me.id;
  if (visit.state === "planned" && !awaiting) {
    if (visit.blocks.length) {
      actions.push(h("div", { class: "notice blocked" }, visit.blocks.map((b) => h("p", {}, ...ruleMessage(b.code, b.message, b.details)))));
    } else if (visit.due_mg > 0) {
      const mg = h("input", { type: "number", step: "0.1", min: "0.1", max: String(visit.due_mg), value: String(visit.due_mg), inputmode: "decimal" });
      mg.id = `hv-mg-${visit.id}`;
      const note = h("input", { type: "text", id: `hv-note-${visit.id}`, placeholder: t("hv.note_if_less") });
      actions.push(
        h("label", { for: mg.id }, t("hv.checkout_mg", { due: formatMg(visit.due_mg) })),
        mg,
        note,
        button("hv-checkout", t("hv.checkout"), "checkout", () => ({ dose_mg: Number(mg.value), note: note.value || null }), "button-primary"),
      );
    }
  }
  if (awaiting) {
    if (mine) {
      actions.push(h("p", { class: "notice", "data-waiting": awaiting }, t(`hv.waiting.${awaiting}`)));
    } else {
      const path = awaiting === "checkout" ? "checkout/confirm" : "return/confirm";
      actions.push(
        h("p", {}, t(`hv.confirm_hint.${awaiting}`, { name: visit.awaiting_from ?? "" })),
        button(`hv-confirm-${awaiting}`, t(`hv.confirm.${awaiting}`), path, () => ({}), "button-primary"),
      );
    }
  }
  if (visit.state === "checked_out") {
    if (!visit.steps.some((s) => s.step === "arrive")) actions.push(button("hv-arrive", t("hv.arrive"), "arrive"));
    const time = h("input", { type: "datetime-local", id: `hv-time-${visit.id}`, value: clinicNowLocal() });
    const note = h("input", { type: "text", id: `hv-outcome-note-${visit.id}`, placeholder: t("hv.note") });
    actions.push(
      h("label", { for: time.id }, t("hv.observed_at")),
      time,
      note,
      h(
        "div",
        { class: "hv-outcomes" },
        button("hv-delivered", t("hv.state.delivered"), "outcome", () => ({ outcome: "delivered", observed_at: clinicInstant(time.value), note: note.value || null }), "button-primary"),
        button("hv-not-home", t("hv.state.not_home"), "outcome", () => ({ outcome: "not_home", note: note.value || null })),
        button("hv-refused", t("hv.state.refused"), "outcome", () => ({ outcome: "refused", note: note.value || null })),
      ),
    );
  }
  if ((visit.state === "not_home" || visit.state === "refused") && !awaiting) {
    actions.push(h("p", { class: "notice blocked" }, t("hv.must_return")), button("hv-return", t("hv.return"), "return", () => ({}), "button-primary"));
  }
  return h(
    "li",
    { class: `hv-card state-${visit.state}`, id: `visit-${visit.id}`, "data-state": visit.state, "data-patient": visit.patient_id },
    h(
      "div",
      { class: "hv-head" },
      h("span", { class: "hv-name" }, `${visit.name}`),
      h("span", { class: "muted" }, ` ${visit.patient_no}`),
      h("span", { class: `badge state-${visit.state}`, "data-visit-state": visit.state }, codeLabel("hv.state", visit.state)),
    ),
    visit.address ? h("p", { class: "hv-address" }, visit.address) : null,
    visit.phone ? h("p", { class: "muted" }, h("a", { href: `tel:${visit.phone}` }, visit.phone)) : null,
    visit.dose ? h("p", { class: "hv-dose" }, doseWithVolume(visit.dose)) : null,
    visit.steps.length ? h("ol", { class: "hv-steps" }, visit.steps.map(stepLine)) : null,
    h("div", { class: "hv-actions" }, actions),
    box.el,
  );
}

export function render(container, { user }) {
  const me = user ?? currentUser();
  const list = h("ol", { class: "hv-list", id: "run-sheet" });
  const status = messageBox("hv-status", "error");
  const print = h("button", { type: "button", id: "print-hv-log", class: "button-secondary" }, t("hv.print_log"));
  const printLink = h("a", { id: "print-hv-log-link", target: "_blank", rel: "noopener", hidden: true }, t("registers.open_pdf"));
  const date = todayIso();

  const load = async () => {
    const site = selectedSiteId();
    if (!site) return;
    try {
      const visits = await api.get(`/sites/${encodeURIComponent(site)}/home-visits?date=${date}`);
      status.clear();
      list.replaceChildren(...(visits.length ? visits.map((v) => visitCard(v, me, load)) : [h("li", { class: "muted", id: "hv-empty" }, t("hv.empty"))]));
    } catch (error) {
      status.showError(error);
    }
  };
  print.addEventListener("click", async () => {
    const site = selectedSiteId();
    if (!site) return;
    try {
      await whileBusy(print, t("common.loading"), () => openPdf(`/reports/home-visit-log.pdf?site_id=${encodeURIComponent(site)}&date=${date}`, printLink));
    } catch (error) {
      status.showError(error);
    }
  });
  container.addEventListener("change", (event) => {
    if (event.target.id === "site-select") load();
  });
  container.append(
    h("div", { class: "page-head" }, pageHeading(t("nav.home-visits")), sitePicker(me)),
    h("p", { class: "lead" }, t("page.home-visits.intro")),
    h("div", { class: "print-tools" }, print, printLink),
    status.el,
    list,
  );
  loadSites()
    .then(() => {
      if (container.isConnected) load();
    })
    .catch(() => {});
  // Refresh, but never under a nurse's typing.
  repeatWhileShown(container, REFRESH_MS, () => {
    const active = document.activeElement;
    if (!container.contains(active) || active.tagName === "BUTTON") load();
  });
}
