/** The agency's part: receipt, supplements, a new appointment (apology), completion. */
import { addCalendarDays, atRiskAt, dueAtForDate, dueDay, effectiveDay, parseInstant } from '../../calendar';
import type { DeadlineRecord, DossierState } from '../../dossier';
import { transitDays } from '../../routes';
import type { Instant } from '../../types';
import {
  COUNTER_NOTICE_WORKING_DAYS,
  SUPPLEMENT_REQUEST_WINDOW_DAYS,
  closeDeadline,
  deadline,
  dueFor,
  indexDueFor,
  openDeadline,
  rulesV2,
  updateDeadline,
  withViolation,
} from '../deadlines';
import { notify } from '../effects';
import { conflict, refuse } from '../refusals';
import type { Context, Decision, Effect, Reported } from '../types';

/**
 * How far past the current due an apology may set the new appointment. The law
 * sets no limit; a year keeps an agency from moving its due out of sight (and
 * the calendar arithmetic inside the years it can count).
 */
export const MAX_APOLOGY_DAYS = 366;

export function received({ state, event, occurredAt, ctx }: Reported<'agency.received'>): Decision {
  if (state.status !== 'submitted' && state.status !== 'in_transit_to_agency') return conflict(state, event.type);
  let next = closeDeadline({ ...state, status: 'processing', receiptNo: event.receiptNo ?? null }, 'handoff', occurredAt);
  next = openDeadline(next, 'processing', 'agency', occurredAt, state.procedure.processingDays, ctx);
  return { ok: true, state: next, effects: [notify(next, 'citizen', 'dossier.received', { dueAt: deadline(next, 'processing')?.dueAt })] };
}

export function supplementRequested({ state, event, occurredAt, ctx }: Reported<'agency.supplement_requested'>): Decision {
  if (state.status !== 'processing') return conflict(state, event.type);
  const processing = deadline(state, 'processing')!;
  const receivedDay = effectiveDay(ctx.calendar, processing.startedAt);
  const requestDay = effectiveDay(ctx.calendar, occurredAt);
  const withinWindow = ctx.calendar.workingDaysBetween(receivedDay, requestDay) <= SUPPLEMENT_REQUEST_WINDOW_DAYS;
  const asked: DossierState = {
    ...state,
    status: 'awaiting_supplement',
    supplementRequests: [
      ...state.supplementRequests,
      { reason: event.reason, items: event.items, requestedAt: occurredAt, providedAt: null, withinWindow },
    ],
  };
  // Rules 2: a request after the 3 working days Decree 61 allows buys no time (the clock keeps
  // running, under either supplement rule) and is recorded as the agency's violation.
  const next =
    rulesV2(state) && !withinWindow
      ? withViolation(asked, {
          rule: 'supplement_request_late',
          at: occurredAt,
          stage: 'processing',
          detail: `requested ${ctx.calendar.workingDaysBetween(receivedDay, requestDay)} working days after receipt (at most ${SUPPLEMENT_REQUEST_WINDOW_DAYS}); the due stays ${processing.dueAt}`,
        })
      : updateDeadline(asked, 'processing', (d) => ({ ...d, pausedAt: occurredAt, atRisk: false }));
  return { ok: true, state: next, effects: [notify(next, 'citizen', 'supplement.requested', { items: event.items, reason: event.reason })] };
}

export function supplementProvided({ state, occurredAt, ctx }: Reported<'citizen.supplement_provided'>): Decision {
  if (state.status !== 'awaiting_supplement') return conflict(state, 'citizen.supplement_provided');
  const requests = state.supplementRequests.map((r, i, all) => (i === all.length - 1 ? { ...r, providedAt: occurredAt } : r));
  const provided: DossierState = { ...state, status: 'processing', supplementRequests: requests };
  const current = deadline(state, 'processing')!;
  // Rules 2: a late request never stopped the clock; nothing to restart.
  if (rulesV2(state) && !current.pausedAt) {
    return { ok: true, state: provided, effects: [notify(provided, 'agency', 'supplement.provided', { dueAt: current.dueAt })] };
  }
  let voided = false;
  let next = updateDeadline(provided, 'processing', (d) => {
    const resumed = resumeProcessing(state, d, occurredAt, ctx);
    voided = resumed.voided;
    return resumed.record;
  });
  const dueAt = deadline(next, 'processing')!.dueAt;
  const effects: Effect[] = [notify(next, 'agency', 'supplement.provided', { dueAt })];
  if (voided && next.apology) {
    next = { ...next, apology: { ...next.apology, voidedAt: occurredAt } };
    effects.push(notify(next, 'citizen', 'dossier.appointment_voided', { dueAt, revisedDueAt: next.apology!.revisedDueAt }));
  }
  return { ok: true, state: next, effects };
}

/**
 * The processing clock once a supplement arrives: restarted (Decree 61) or
 * resumed with the paused days added (the index rule); `voided` when the new
 * due overtakes an apology's appointment.
 */
function resumeProcessing(state: DossierState, d: DeadlineRecord, occurredAt: Instant, ctx: Context): { record: DeadlineRecord; voided: boolean } {
  const cal = ctx.calendar;
  const v2 = rulesV2(state);
  const pausedDays = cal.workingDaysBetween(effectiveDay(cal, d.pausedAt!), effectiveDay(cal, occurredAt));
  const supplementWorkingDays = d.supplementWorkingDays + pausedDays;
  // Decree 61 Art. 19.4: the clock restarts from zero; the index rule instead stops it.
  const restarted: DeadlineRecord =
    state.settings.supplementRule === 'restart'
      ? { ...d, startedAt: occurredAt, supplementWorkingDays, pausedAt: null }
      : { ...d, supplementWorkingDays, pausedAt: null };
  if (v2 && d.state === 'overdue') {
    // Rules 2: a breach, once it happened, stays: same due, same start, still overdue; only
    // Decision 766's index counts the supplement time. Reminders go on.
    const kept = { ...d, supplementWorkingDays, pausedAt: null };
    return { record: { ...kept, indexDueAt: indexDueFor(state, kept, cal) }, voided: false };
  }
  const dueAt = dueFor(restarted, state.settings, cal);
  // Rules 2: an appointment that is not after the new due no longer holds (see apologized()).
  const voids = v2 && d.revisedDueAt !== null && parseInstant(d.revisedDueAt) <= parseInstant(dueAt);
  return {
    record: {
      ...restarted,
      dueAt,
      ...(voids ? { revisedDueAt: null, revisedDueNotified: false } : {}),
      indexDueAt: indexDueFor(state, restarted, cal),
      state: d.state === 'overdue' && parseInstant(dueAt) > ctx.now ? 'open' : d.state,
      atRisk: false,
      atRiskNotified: false,
      nextReminderAt: null,
    },
    voided: voids,
  };
}

export function apologized({ state, event, occurredAt, ctx }: Reported<'agency.apologized'>): Decision {
  if (state.status !== 'processing' && state.status !== 'awaiting_supplement') return conflict(state, event.type);
  // Rules 2: once per clock: an appointment voided by a restart may be replaced.
  if (state.apology && !(rulesV2(state) && state.apology.voidedAt)) {
    return refuse(409, 'apology-already-made', 'Already rescheduled', 'A new appointment may be made only once');
  }
  const processing = deadline(state, 'processing')!;
  const currentDueDay = dueDay(processing.dueAt);
  if (event.newDueDate <= currentDueDay) {
    return refuse(422, 'apology-date-not-after-due', 'New date is not after the due', `newDueDate must be after ${currentDueDay}`, [
      { path: 'newDueDate', message: `must be after the current due date ${currentDueDay}` },
    ]);
  }
  const latest = addCalendarDays(currentDueDay, MAX_APOLOGY_DAYS);
  if (event.newDueDate > latest) {
    return refuse(422, 'apology-date-too-far', 'New date is too far', `newDueDate must be at most ${MAX_APOLOGY_DAYS} days after the current due date ${currentDueDay}`, [
      { path: 'newDueDate', message: `must be on or before ${latest}` },
    ]);
  }
  const cal = ctx.calendar;
  const revisedDueAt = dueAtForDate(cal, event.newDueDate);
  const timely = parseInstant(occurredAt) <= parseInstant(atRiskAt(cal, processing.dueAt));
  const apology = { newDueDate: event.newDueDate, revisedDueAt, reason: event.reason, apologizedAt: occurredAt, timely };
  const next = updateDeadline({ ...state, apology }, 'processing', (d) => ({ ...d, revisedDueAt, nextReminderAt: null }));
  return { ok: true, state: next, effects: [notify(next, 'citizen', 'dossier.rescheduled', { revisedDueAt, reason: event.reason })] };
}

export function completed({ state, event, occurredAt, ctx }: Reported<'agency.completed'>): Decision {
  if (state.status !== 'processing') return conflict(state, event.type);
  if (event.outcome === 'rejected' && !event.reason) {
    return refuse(400, 'validation', 'Invalid event', 'A rejection needs a reason', [{ path: 'reason', message: 'is required when rejected' }]);
  }
  let next = closeDeadline(
    { ...state, outcome: event.outcome, resultRef: event.resultRef ?? null, rejectionReason: event.reason ?? null },
    'processing',
    occurredAt,
  );
  next = updateDeadline(next, 'processing', (d) => ({ ...d, atRisk: false, nextReminderAt: null }));
  const effects: Effect[] = [];
  if (!state.services.deliver) {
    next = { ...next, status: 'closed' };
    effects.push(notify(next, 'citizen', 'result.released', { outcome: event.outcome }));
    return { ok: true, state: next, effects };
  }
  next = { ...next, status: 'result_ready' };
  const days = state.delivery?.method === 'home' ? transitDays(state.routes.delivery ?? 'inter_province') : COUNTER_NOTICE_WORKING_DAYS;
  next = openDeadline(next, 'delivery', 'post', occurredAt, days, ctx);
  if (state.delivery?.method === 'home') {
    effects.push({ kind: 'dispatch_courier', purpose: 'delivery', attempt: 1, address: state.delivery.address });
  } else {
    // Counter collection: the return leg's clock runs until the citizen is notified.
    effects.push({ ...notify(next, 'citizen', 'result.ready_for_collection'), then: { type: 'system.counter_notified' } });
  }
  return { ok: true, state: next, effects };
}
