// The dosing decision without the server, from a day-sheet entry (see the server's
// domain/offline.rs): the same rules as the server's decision, in the same order, for the
// part of the day that can change at the window — the doses given, the time of day, a dose
// withheld. tests/offline_decision.rs checks this copy against the server's decision on
// generated days and event sequences. No imports: it runs in the page, the service worker
// and Node alike. Amounts are in tenths of a milligram; times are ISO strings or epoch ms.

const HOUR_MS = 3600 * 1000;

const at = (time) => (typeof time === "number" ? time : Date.parse(time));

/**
 * decideOffline(entry, now) → { can_dispense, due_deci_mg, portion, given_deci_mg,
 * day_total_deci_mg, review_limit_deci_mg, missed_days, blocks: [{ code, details }] }.
 * The entry's patient is assigned to this site today (the sheet holds no one else).
 */
export function decideOffline(entry, now) {
  const doses = entry.doses;
  const given = doses.reduce((sum, d) => sum + d.deci_mg, 0);
  const order = entry.order;
  const decision = {
    can_dispense: false,
    due_deci_mg: 0,
    portion: 1,
    given_deci_mg: given,
    day_total_deci_mg: order ? order.daily_deci_mg : 0,
    review_limit_deci_mg: null,
    missed_days: entry.missed_days,
    blocks: [],
  };
  const blocks = decision.blocks;
  if (!entry.active) blocks.push({ code: "patient_not_active" });
  if (!order) {
    blocks.push({ code: "no_active_order" });
    return decision;
  }

  const limit = entry.limit_deci_mg;
  const needsReview = entry.review_needed || entry.withheld;
  if (needsReview && !entry.suspended) {
    decision.review_limit_deci_mg = limit;
    decision.day_total_deci_mg = limit;
  }

  const split = needsReview ? null : order.portions_deci_mg;
  const has = (p) => doses.some((d) => d.portion === p);
  let portion;
  if (!split) portion = doses.length === 0 ? 1 : null;
  else if (!has(1) && !has(2)) portion = 1;
  else if (has(1) && !has(2)) portion = 2;
  else portion = null;
  if (portion === null) {
    if (doses.length > 0) {
      const last = doses.reduce((a, b) => (at(b.given_at) > at(a.given_at) ? b : a));
      blocks.push({ code: "already_dosed_today", details: { given_at: last.given_at } });
    }
    return finish(decision);
  }
  decision.portion = portion;

  if (portion === 2) {
    const first = doses.find((d) => d.portion === 1);
    if (first) {
      const readyAt = at(first.given_at) + entry.split_min_interval_hours * HOUR_MS;
      if (at(now) < readyAt) {
        blocks.push({ code: "split_interval_not_elapsed", details: { ready_at: new Date(readyAt).toISOString() } });
      }
    }
  }

  if (entry.suspended) {
    blocks.push({ code: "reinduction_required", details: { missed_days: entry.missed_days } });
    return finish(decision);
  }

  const full = split ? (portion === 1 ? split[0] : split[1]) : order.daily_deci_mg;
  if (!needsReview) {
    decision.due_deci_mg = full;
  } else if (entry.review_deci_mg !== null && entry.review_deci_mg !== undefined) {
    decision.due_deci_mg = Math.min(entry.review_deci_mg, limit);
  } else {
    // A review is the doctor's, and needs the server.
    blocks.push({
      code: "doctor_review_required",
      details: { missed_days: entry.missed_days, max_deci_mg: limit, withheld: entry.withheld },
    });
  }
  return finish(decision);
}

function finish(decision) {
  if (decision.blocks.length > 0) decision.due_deci_mg = 0;
  decision.can_dispense = decision.blocks.length === 0 && decision.due_deci_mg > 0;
  return decision;
}

/** The entry after a dose given at the window (offline): a new entry, the old one kept. */
export function withDose(entry, { portion, deci_mg, given_at }) {
  return { ...entry, doses: [...entry.doses, { portion, deci_mg, given_at }] };
}

/** The entry after a dose was withheld at the window (offline). */
export function withWithheld(entry) {
  return { ...entry, withheld: true };
}
