/**
 * Time: when the workflow must next wake up, and `tick`, which fires every
 * alarm that is due (dues, at-risk flags, reminders, re-dispatches, invitations).
 */
import { atRiskAt, formatInstant, nextWorkingMorning, parseInstant, type WorkingCalendar } from '../calendar';
import type { DeadlineRecord, DossierState } from '../dossier';
import type { Instant } from '../types';
import { dueFor, indexDueFor, rulesV2 } from './deadlines';
import { notify, ownerAudience } from './effects';
import { SYSTEM, type Context, type Effect, type Outcome } from './types';

/** When the workflow must next wake up, or null when nothing is pending. */
export function nextAlarmAt(state: DossierState, calendar: WorkingCalendar): number | null {
  const times: number[] = [];
  for (const d of state.deadlines) {
    if (d.pausedAt || d.completedAt) continue;
    if (d.state === 'open') times.push(parseInstant(d.dueAt));
    if (d.stage === 'processing') {
      if (d.state === 'open' && !d.atRiskNotified) times.push(parseInstant(atRiskAt(calendar, d.dueAt)));
      if (d.nextReminderAt) times.push(parseInstant(d.nextReminderAt));
      if (d.revisedDueAt && d.state === 'overdue' && !d.revisedDueNotified) times.push(parseInstant(d.revisedDueAt));
    }
  }
  if (state.pickupRedispatchAt && state.status === 'awaiting_pickup') times.push(parseInstant(state.pickupRedispatchAt));
  if (state.status === 'held_at_post_office') {
    if (state.invitations.nextAt) times.push(parseInstant(state.invitations.nextAt));
    else if (state.invitations.returnAt) times.push(parseInstant(state.invitations.returnAt));
  }
  return times.length ? Math.min(...times) : null;
}

/** What one tick fired: effects, and the timeline entries that say so. */
interface Fired {
  now: number;
  nowIso: Instant;
  calendar: WorkingCalendar;
  /** The state before the tick: notices are keyed on its version. */
  state: DossierState;
  effects: Effect[];
  timeline: DossierState['timeline'];
}

function record(f: Fired, type: string, note?: string): void {
  f.timeline.push({ type, occurredAt: f.nowIso, recordedAt: f.nowIso, by: { role: 'system', id: SYSTEM.id }, ...(note ? { note } : {}) });
}

/**
 * Re-checks open deadlines against the current calendar (a holiday added
 * after the deadline was set moves it), then fires every alarm that is due.
 */
export function tick(state: DossierState, ctx: Context): Outcome {
  const f: Fired = { now: ctx.now, nowIso: formatInstant(ctx.now), calendar: ctx.calendar, state, effects: [], timeline: [] };
  const deadlines = state.deadlines.map((d) => {
    if (d.completedAt || d.pausedAt) return d;
    return followUpOverdueProcessing(f, markOverdueOrAtRisk(f, rescheduleOnCalendar(f, d)));
  });
  let next: DossierState = { ...state, deadlines };
  next = redispatchPickup(f, next);
  next = inviteOrReturn(f, next);
  if (!f.timeline.length) return { state, effects: [] };
  next = { ...next, version: state.version + 1, updatedAt: f.nowIso, timeline: [...next.timeline, ...f.timeline] };
  return { state: next, effects: f.effects };
}

/** A due recomputed on the calendar as it is now; an overdue record whose due moved past now is open again. */
function rescheduleOnCalendar(f: Fired, d: DeadlineRecord): DeadlineRecord {
  const { state, calendar, now } = f;
  const recomputed = dueFor(d, state.settings, calendar);
  // Rules 2: a breach, once it happened, stays (a later holiday moves only open dues).
  const breachStays = rulesV2(state) && d.state === 'overdue';
  if (recomputed === d.dueAt || breachStays) return d;
  record(f, 'deadline.rescheduled', `${d.stage}: ${d.dueAt} → ${recomputed} (working calendar changed)`);
  // The index due follows only with a reschedule: a tick that changes nothing else must stay a no-op (replay).
  let next: DeadlineRecord = { ...d, dueAt: recomputed, indexDueAt: indexDueFor(state, d, calendar) };
  if (next.state === 'overdue' && parseInstant(recomputed) > now) next = { ...next, state: 'open', nextReminderAt: null };
  if (parseInstant(atRiskAt(calendar, recomputed)) > now) next = { ...next, atRisk: false, atRiskNotified: false };
  return next;
}

/** At the due: overdue, the owner and managers told. Processing, a working day before: at risk. */
function markOverdueOrAtRisk(f: Fired, d: DeadlineRecord): DeadlineRecord {
  const { state, calendar, now } = f;
  if (d.state !== 'open') return d;
  const tag = `${d.stage}:${d.dueAt}`;
  const data = { stage: d.stage, dueAt: d.dueAt };
  if (parseInstant(d.dueAt) <= now) {
    let next: DeadlineRecord = { ...d, state: 'overdue', atRisk: false, atRiskNotified: true };
    record(f, 'deadline.overdue', d.stage);
    f.effects.push(notify(state, ownerAudience(d.owner), 'deadline.overdue', data, tag), notify(state, 'manager', 'deadline.overdue', data, tag));
    if (d.stage === 'processing' && !(d.revisedDueAt && parseInstant(d.revisedDueAt) > now)) {
      next = { ...next, nextReminderAt: nextWorkingMorning(calendar, now) };
    }
    return next;
  }
  if (d.stage === 'processing' && !d.atRiskNotified && parseInstant(atRiskAt(calendar, d.dueAt)) <= now) {
    record(f, 'deadline.at_risk', d.stage);
    f.effects.push(notify(state, 'agency', 'deadline.at_risk', data, tag), notify(state, 'manager', 'deadline.at_risk', data, tag));
    return { ...d, atRisk: true, atRiskNotified: true };
  }
  return d;
}

/** Overdue processing: the apology's date passing, else the agency's reminder each working morning. */
function followUpOverdueProcessing(f: Fired, d: DeadlineRecord): DeadlineRecord {
  const { state, calendar, now } = f;
  if (d.stage !== 'processing' || d.state !== 'overdue') return d;
  if (d.revisedDueAt && !d.revisedDueNotified && parseInstant(d.revisedDueAt) <= now) {
    record(f, 'deadline.revised_due_passed', d.stage);
    const data = { stage: d.stage, revisedDueAt: d.revisedDueAt };
    f.effects.push(notify(state, 'agency', 'deadline.revised_due_passed', data), notify(state, 'manager', 'deadline.revised_due_passed', data));
    return { ...d, revisedDueNotified: true, nextReminderAt: nextWorkingMorning(calendar, now) };
  }
  if (d.nextReminderAt && parseInstant(d.nextReminderAt) <= now) {
    f.effects.push(notify(state, 'agency', 'deadline.reminder', { stage: d.stage, dueAt: d.dueAt }, d.nextReminderAt));
    record(f, 'deadline.reminder', d.stage);
    return { ...d, nextReminderAt: nextWorkingMorning(calendar, now) };
  }
  return d;
}

/** The next working morning after a failed pickup: a new courier job. */
function redispatchPickup(f: Fired, state: DossierState): DossierState {
  if (!state.pickupRedispatchAt || parseInstant(state.pickupRedispatchAt) > f.now || state.status !== 'awaiting_pickup') return state;
  const attempt = state.pickupFailures.length + 1;
  f.effects.push({ kind: 'dispatch_courier', purpose: 'pickup', attempt, address: state.pickupAddress });
  record(f, 'courier.pickup_redispatched', `attempt ${attempt}`);
  return { ...state, pickupRedispatchAt: null };
}

/** A held result: the next invitation to collect it, or, after the last, its return to the agency. */
function inviteOrReturn(f: Fired, state: DossierState): DossierState {
  if (state.status !== 'held_at_post_office') return state;
  const inv = state.invitations;
  if (inv.nextAt && parseInstant(inv.nextAt) <= f.now) {
    const invitation = inv.sentAt.length + 1;
    f.effects.push(notify(state, 'citizen', 'result.invitation', { invitation }, inv.nextAt));
    record(f, 'result.invitation_sent', `invitation ${invitation}`);
    return { ...state, invitations: { ...inv, sentAt: [...inv.sentAt, f.nowIso], nextAt: null } };
  }
  if (!inv.nextAt && inv.returnAt && parseInstant(inv.returnAt) <= f.now) {
    const next: DossierState = { ...state, status: 'returned_to_agency', invitations: { ...inv, returnAt: null } };
    record(f, 'result.returned_to_agency');
    f.effects.push({ kind: 'cancel_jobs', reason: 'returned_to_agency' });
    f.effects.push(notify(next, 'agency', 'result.returned'), notify(next, 'citizen', 'result.returned'));
    return next;
  }
  return state;
}
