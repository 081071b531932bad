/**
 * The dossier lifecycle as pure functions: `decide` applies an event reported
 * by a user, `applySystem` the outcome of a side effect, `tick` the passage of
 * time. Each returns the next state and the effects to run, or a refusal.
 * The workflow owns time and effects; everything else is here, so it can be
 * tested exhaustively without Temporal.
 */
import {
  addCalendarDays,
  atRiskAt,
  computeDueAt,
  effectiveDay,
  endOfLocalDay,
  formatInstant,
  localDate,
  nextWorkingMorning,
  parseInstant,
  type WorkingCalendar,
} from './calendar';
import {
  TERMINAL_STATUSES,
  WITHDRAWABLE_STATUSES,
  type Actor,
  type AgencyViolation,
  type CourierJobRef,
  type DeadlineRecord,
  type DeadlineView,
  type DossierSettings,
  type DossierState,
  type DossierStatus,
  type DossierView,
  type FeesView,
  type Owner,
  type Payment,
  type Recipient,
  type Stage,
} from './dossier';
import { EVENT_ROLES, type DossierEvent, type EventCommand, type Refusal } from './events';
import { quoteFees, redeliveryCharge, type FeeItem } from './fees';
import { routeClass, transitDays } from './routes';
import type { Address, Agency, Instant, Procedure, Submission, Tariff } from './types';

export interface Context {
  /** The workflow's now, ms since epoch. */
  now: number;
  calendar: WorkingCalendar;
}

export type Audience = 'citizen' | 'agency' | 'manager' | 'courier';

export type Effect =
  | { kind: 'capture_payment'; key: string; amountVnd: number; reference: string }
  | { kind: 'record_cash'; key: string; amountVnd: number; by: string }
  | { kind: 'refund'; key: string; amountVnd: number; method: 'gateway' | 'cash'; reference?: string }
  | { kind: 'hand_off'; mode: 'electronic' | 'paper' }
  | { kind: 'inform_agency'; key: string; about: 'withdrawn' }
  | { kind: 'dispatch_courier'; purpose: CourierJobRef['purpose']; attempt: number; address: Address | null }
  | { kind: 'close_job'; jobId: string; outcome: 'done' | 'failed' }
  | { kind: 'cancel_jobs'; reason: string }
  | { kind: 'notify'; key: string; audience: Audience; template: string; data?: Record<string, unknown>; then?: SystemEvent };

/** Outcomes of side effects, fed back into the lifecycle. */
export type SystemEvent =
  | { type: 'system.handed_off'; channel: 'webhook' | 'manual' }
  | { type: 'system.job_created'; job: CourierJobRef }
  | { type: 'system.counter_notified' }
  | { type: 'system.payment_captured'; key: string; amountVnd: number; reference: string }
  | { type: 'system.payment_declined'; reason: string };

export type Decision = { ok: true; state: DossierState; effects: Effect[] } | { ok: false; refusal: Refusal };

export interface Registration {
  submission: Submission;
  procedure: Procedure;
  agency: Agency;
  tariff: Tariff;
  settings: DossierSettings;
}

const SYSTEM: Actor = { role: 'system', id: 'workflow' };
const FIVE_MINUTES = 5 * 60 * 1000;
/**
 * How far past the current due an apology may set the new appointment. The law
 * sets no limit; a year keeps an agency from moving its due out of sight (and
 * the calendar arithmetic inside the years it can count).
 */
export const MAX_APOLOGY_DAYS = 366;

// ---------------------------------------------------------------- registration

/** The state right after submission, with its first effects. */
export function register(reg: Registration, ctx: Context): { state: DossierState; effects: Effect[] } {
  const { submission: s, procedure, agency, tariff, settings } = reg;
  // Rules 2: districts compare with their unit type ("Huyện Kỳ Anh" is not "Thị xã Kỳ Anh").
  const typed = settings.rules === 2;
  const pickupRoute = s.services.collect && s.pickupAddress ? routeClass(s.pickupAddress, agency, settings.classOneProvinces, typed) : null;
  const deliveryRoute = !s.services.deliver
    ? null
    : s.delivery?.method === 'home'
      ? routeClass(agency, s.delivery.address, settings.classOneProvinces, typed)
      : 'same_district';
  const items = quoteFees({
    procedure,
    tariff,
    services: s.services,
    deliveryMethod: s.delivery?.method,
    pickupRoute: pickupRoute ?? undefined,
    deliveryRoute: deliveryRoute ?? undefined,
  });
  const now = formatInstant(ctx.now);
  const submittedAt = formatInstant(parseInstant(s.submittedAt));
  let state: DossierState = {
    version: 1,
    code: s.code,
    procedureCode: s.procedureCode,
    procedure: { name: procedure.name, processingDays: procedure.processingDays },
    agencyId: s.agencyId,
    agency: { name: agency.name, province: agency.province, district: agency.district },
    applicant: s.applicant,
    services: s.services,
    pickupAddress: s.pickupAddress ?? null,
    delivery: s.delivery ?? null,
    payment: s.payment,
    submittedAt,
    routes: { pickup: pickupRoute, delivery: deliveryRoute },
    settings,
    status: 'submitted',
    outcome: null,
    resultRef: null,
    rejectionReason: null,
    receiptNo: null,
    deadlines: [],
    fees: {
      items,
      payments: [],
      redeliveryCharge: s.delivery?.method === 'home' && deliveryRoute ? redeliveryCharge(tariff, deliveryRoute) : null,
    },
    attempts: [],
    pickupFailures: [],
    timeline: [{ type: 'dossier.submitted', occurredAt: submittedAt, recordedAt: now, by: { role: 'portal', id: 'portal' } }],
    apology: null,
    supplementRequests: [],
    job: null,
    courierIds: [],
    pickupRedispatchAt: null,
    invitations: { sentAt: [], nextAt: null, returnAt: null },
    handedOff: false,
    lastEventAt: submittedAt,
    updatedAt: now,
  };
  const effects: Effect[] = [];
  const total = sum(items.map((i) => i.amountVnd));
  if (s.payment.method === 'prepaid' && total > 0) {
    effects.push({ kind: 'capture_payment', key: `${s.code}:capture`, amountVnd: total, reference: s.payment.reference });
  }
  if (s.services.collect) {
    state = openDeadline(state, 'pickup', 'post', submittedAt, 1, ctx);
    effects.push({ kind: 'dispatch_courier', purpose: 'pickup', attempt: 1, address: s.pickupAddress ?? null });
  } else {
    // Electronic handoff: due the same working day (the next one after 15:00).
    state = openDeadline(state, 'handoff', 'post', submittedAt, 0, ctx);
    effects.push({ kind: 'hand_off', mode: 'electronic' });
  }
  effects.push(notify(state, 'citizen', 'dossier.submitted'));
  return { state, effects };
}

// ---------------------------------------------------------------- user events

/** Applies an event reported by a user, or refuses it (and then nothing changes). */
export function decide(state: DossierState, cmd: EventCommand, ctx: Context): Decision {
  const { event, actor } = cmd;
  const expectedRole = EVENT_ROLES[event.type];
  if (actor.role !== expectedRole) {
    return refuse(403, 'forbidden', 'Not allowed', `${event.type} is reported by the ${expectedRole} role, not ${actor.role}`);
  }
  if (actor.role === 'agency' && actor.agencyId !== state.agencyId) {
    return refuse(404, 'not-found', 'Dossier not found', `No dossier ${state.code}`);
  }
  if (TERMINAL_STATUSES.has(state.status)) {
    return conflict(state, event.type);
  }

  let at: number;
  if (cmd.occurredAt === undefined) {
    at = Math.max(ctx.now, parseInstant(state.lastEventAt));
  } else {
    at = parseInstant(cmd.occurredAt);
    if (Number.isNaN(at)) return invalid('occurredAt', 'must be an ISO 8601 instant with offset');
    if (at > ctx.now + FIVE_MINUTES) return invalid('occurredAt', 'is more than 5 minutes in the future');
    if (at < parseInstant(state.lastEventAt)) {
      return invalid('occurredAt', `is before the dossier's previous event (${state.lastEventAt})`);
    }
  }
  const occurredAt = formatInstant(at);
  const by = actor.role === 'courier' ? actor.courierId ?? actor.id : actor.role === 'agency' ? actor.agencyId ?? actor.id : actor.id;

  const step = (): Decision => {
    switch (event.type) {
      case 'courier.picked_up':
        return pickedUp(state, event, actor, occurredAt, ctx);
      case 'courier.pickup_failed':
        return pickupFailed(state, event, actor, occurredAt, ctx);
      case 'agency.received':
        return received(state, event, occurredAt, ctx);
      case 'agency.supplement_requested':
        return supplementRequested(state, event, occurredAt, ctx);
      case 'citizen.supplement_provided':
        return supplementProvided(state, occurredAt, ctx);
      case 'agency.apologized':
        return apologized(state, event, occurredAt, ctx);
      case 'agency.completed':
        return completed(state, event, occurredAt, ctx);
      case 'courier.delivery_attempted':
        return deliveryAttempted(state, event, actor, occurredAt, ctx);
      case 'counter.collected':
        return counterCollected(state, event, by, occurredAt);
      case 'citizen.redelivery_requested':
        return redeliveryRequested(state, occurredAt);
      case 'citizen.withdrawn':
        return withdrawn(state, event, occurredAt);
    }
  };
  const result = step();
  if (!result.ok) return result;
  const note = 'reason' in event && typeof event.reason === 'string' ? event.reason : undefined;
  const next: DossierState = {
    ...result.state,
    version: state.version + 1,
    lastEventAt: occurredAt,
    updatedAt: formatInstant(ctx.now),
    timeline: [
      ...result.state.timeline,
      {
        type: event.type,
        occurredAt,
        recordedAt: formatInstant(ctx.now),
        by: { role: actor.role, id: by },
        ...(cmd.eventId ? { eventId: cmd.eventId } : {}),
        ...(note ? { note } : {}),
      },
    ],
  };
  return { ok: true, state: next, effects: result.effects };
}

function pickedUp(
  state: DossierState,
  event: Extract<DossierEvent, { type: 'courier.picked_up' }>,
  actor: EventCommand['actor'],
  occurredAt: Instant,
  ctx: Context,
): Decision {
  if (state.status !== 'awaiting_pickup') return conflict(state, event.type);
  const mine = courierOwnsJob(state, actor);
  if (mine) return mine;
  const cash = takeCash(state, event.collectedVnd, occurredAt, actor.courierId ?? actor.id, 'at pickup');
  if (!cash.ok) return cash;
  let next = closeDeadline({ ...cash.state, status: 'in_transit_to_agency', pickupRedispatchAt: null }, 'pickup', occurredAt);
  const days = transitDays(state.routes.pickup ?? 'inter_province');
  next = openDeadline(next, 'handoff', 'post', occurredAt, days, ctx);
  const effects: Effect[] = [...cash.effects];
  if (state.job) effects.push({ kind: 'close_job', jobId: state.job.jobId, outcome: 'done' });
  next = { ...next, job: null };
  effects.push({ kind: 'hand_off', mode: 'paper' }, notify(next, 'citizen', 'dossier.picked_up'));
  return { ok: true, state: next, effects };
}

function pickupFailed(
  state: DossierState,
  event: Extract<DossierEvent, { type: 'courier.pickup_failed' }>,
  actor: EventCommand['actor'],
  occurredAt: Instant,
  ctx: Context,
): Decision {
  if (state.status !== 'awaiting_pickup') return conflict(state, event.type);
  if (!state.job) return refuse(409, 'no-pickup-job', 'No pickup under way', 'The pickup is re-dispatched on the next working day');
  const mine = courierOwnsJob(state, actor);
  if (mine) return mine;
  const failures = [...state.pickupFailures, { occurredAt, reason: event.reason, courierId: actor.courierId ?? actor.id }];
  const effects: Effect[] = [{ kind: 'close_job', jobId: state.job.jobId, outcome: 'failed' }];
  let next: DossierState = { ...state, pickupFailures: failures, job: null };
  if (failures.length >= 3) {
    next = closeOpenDeadlines({ ...next, status: 'cancelled' }, occurredAt);
    const refund = refundUnowed(next);
    next = refund.state;
    effects.push(...refund.effects, notify(next, 'citizen', 'dossier.cancelled'), notify(next, 'manager', 'dossier.cancelled'));
    return { ok: true, state: next, effects };
  }
  next = { ...next, pickupRedispatchAt: nextWorkingMorning(ctx.calendar, occurredAt) };
  effects.push(notify(next, 'citizen', 'pickup.failed', { redispatchAt: next.pickupRedispatchAt }));
  return { ok: true, state: next, effects };
}

function received(state: DossierState, event: Extract<DossierEvent, { type: 'agency.received' }>, occurredAt: Instant, ctx: Context): Decision {
  if (state.status !== 'submitted' && state.status !== 'in_transit_to_agency') return conflict(state, event.type);
  let next = closeDeadline({ ...state, status: 'processing', receiptNo: event.receiptNo ?? null }, 'handoff', occurredAt);
  next = openDeadline(next, 'processing', 'agency', occurredAt, state.procedure.processingDays, ctx);
  return { ok: true, state: next, effects: [notify(next, 'citizen', 'dossier.received', { dueAt: deadline(next, 'processing')?.dueAt })] };
}

function supplementRequested(
  state: DossierState,
  event: Extract<DossierEvent, { type: 'agency.supplement_requested' }>,
  occurredAt: Instant,
  ctx: Context,
): Decision {
  if (state.status !== 'processing') return conflict(state, event.type);
  const processing = deadline(state, 'processing')!;
  const receivedDay = effectiveDay(ctx.calendar, processing.startedAt);
  const requestDay = effectiveDay(ctx.calendar, occurredAt);
  const withinWindow = ctx.calendar.workingDaysBetween(receivedDay, requestDay) <= 3;
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
          detail: `requested ${ctx.calendar.workingDaysBetween(receivedDay, requestDay)} working days after receipt (at most 3); the due stays ${processing.dueAt}`,
        })
      : updateDeadline(asked, 'processing', (d) => ({ ...d, pausedAt: occurredAt, atRisk: false }));
  return { ok: true, state: next, effects: [notify(next, 'citizen', 'supplement.requested', { items: event.items, reason: event.reason })] };
}

function supplementProvided(state: DossierState, occurredAt: Instant, ctx: Context): Decision {
  if (state.status !== 'awaiting_supplement') return conflict(state, 'citizen.supplement_provided');
  const cal = ctx.calendar;
  const requests = state.supplementRequests.map((r, i, all) => (i === all.length - 1 ? { ...r, providedAt: occurredAt } : r));
  const v2 = rulesV2(state);
  const provided: DossierState = { ...state, status: 'processing', supplementRequests: requests };
  const current = deadline(state, 'processing')!;
  // Rules 2: a late request never stopped the clock; nothing to restart.
  if (v2 && !current.pausedAt) {
    return { ok: true, state: provided, effects: [notify(provided, 'agency', 'supplement.provided', { dueAt: current.dueAt })] };
  }
  let voided = false;
  let next = updateDeadline(provided, 'processing', (d) => {
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
      return { ...kept, indexDueAt: indexDueFor(state, kept, cal) };
    }
    const dueAt = dueFor(restarted, state.settings, cal);
    // Rules 2: an appointment that is not after the new due no longer holds (see apologized()).
    const voids = v2 && d.revisedDueAt !== null && parseInstant(d.revisedDueAt) <= parseInstant(dueAt);
    if (voids) voided = true;
    return {
      ...restarted,
      dueAt,
      ...(voids ? { revisedDueAt: null, revisedDueNotified: false } : {}),
      indexDueAt: indexDueFor(state, restarted, cal),
      state: d.state === 'overdue' && parseInstant(dueAt) > ctx.now ? 'open' : d.state,
      atRisk: false,
      atRiskNotified: false,
      nextReminderAt: null,
    };
  });
  const dueAt = deadline(next, 'processing')!.dueAt;
  const effects: Effect[] = [notify(next, 'agency', 'supplement.provided', { dueAt })];
  if (voided && next.apology) {
    next = { ...next, apology: { ...next.apology, voidedAt: occurredAt } };
    effects.push(notify(next, 'citizen', 'dossier.appointment_voided', { dueAt, revisedDueAt: next.apology!.revisedDueAt }));
  }
  return { ok: true, state: next, effects };
}

function apologized(
  state: DossierState,
  event: Extract<DossierEvent, { type: 'agency.apologized' }>,
  occurredAt: Instant,
  ctx: Context,
): Decision {
  if (state.status !== 'processing' && state.status !== 'awaiting_supplement') return conflict(state, event.type);
  // Rules 2: once per clock: an appointment voided by a restart may be replaced.
  if (state.apology && !(rulesV2(state) && state.apology.voidedAt)) {
    return refuse(409, 'apology-already-made', 'Already rescheduled', 'A new appointment may be made only once');
  }
  const processing = deadline(state, 'processing')!;
  const currentDueDay = localDate(parseInstant(processing.dueAt) - 1);
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
  // A last day that is not a working day moves to the end of the next working day.
  const lastDay = cal.isWorkingDay(event.newDueDate) ? event.newDueDate : cal.nextWorkingDay(event.newDueDate);
  const revisedDueAt = endOfLocalDay(lastDay);
  const timely = parseInstant(occurredAt) <= parseInstant(atRiskAt(cal, processing.dueAt));
  const apology = { newDueDate: event.newDueDate, revisedDueAt, reason: event.reason, apologizedAt: occurredAt, timely };
  const next = updateDeadline({ ...state, apology }, 'processing', (d) => ({ ...d, revisedDueAt, nextReminderAt: null }));
  return { ok: true, state: next, effects: [notify(next, 'citizen', 'dossier.rescheduled', { revisedDueAt, reason: event.reason })] };
}

function completed(
  state: DossierState,
  event: Extract<DossierEvent, { type: 'agency.completed' }>,
  occurredAt: Instant,
  ctx: Context,
): Decision {
  if (state.status !== 'processing') return conflict(state, event.type);
  if (event.outcome === 'rejected' && !event.reason) {
    return refuse(400, 'validation', 'Invalid event', 'A rejection needs a reason', [{ path: 'reason', message: 'is required when rejected' }]);
  }
  let next = closeDeadline(
    { ...state, outcome: event.outcome, resultRef: event.resultRef ?? null, rejectionReason: event.reason ?? null },
    'processing',
    occurredAt,
  );
  next = { ...next, deadlines: next.deadlines.map((d) => (d.stage === 'processing' ? { ...d, atRisk: false, nextReminderAt: null } : d)) };
  const effects: Effect[] = [];
  if (!state.services.deliver) {
    next = { ...next, status: 'closed' };
    effects.push(notify(next, 'citizen', 'result.released', { outcome: event.outcome }));
    return { ok: true, state: next, effects };
  }
  next = { ...next, status: 'result_ready' };
  const days = state.delivery?.method === 'home' ? transitDays(state.routes.delivery ?? 'inter_province') : 1;
  next = openDeadline(next, 'delivery', 'post', occurredAt, days, ctx);
  if (state.delivery?.method === 'home') {
    effects.push({ kind: 'dispatch_courier', purpose: 'delivery', attempt: 1, address: state.delivery.address });
  } else {
    // Counter collection: the return leg's clock runs until the citizen is notified.
    effects.push({ ...notify(next, 'citizen', 'result.ready_for_collection'), then: { type: 'system.counter_notified' } });
  }
  return { ok: true, state: next, effects };
}

function deliveryAttempted(
  state: DossierState,
  event: Extract<DossierEvent, { type: 'courier.delivery_attempted' }>,
  actor: EventCommand['actor'],
  occurredAt: Instant,
  ctx: Context,
): Decision {
  if (state.status !== 'out_for_delivery') return conflict(state, event.type);
  const mine = courierOwnsJob(state, actor);
  if (mine) return mine;
  const courierId = actor.courierId ?? actor.id;
  const attempt = { attempt: state.attempts.length + 1, occurredAt, courierId };
  // The return leg's clock stops at the first attempt, whatever its outcome.
  let next = closeDeadline(state, 'delivery', occurredAt);
  const effects: Effect[] = [];
  if (event.outcome === 'delivered') {
    if (!event.recipient) return invalid('recipient', 'is required when delivered');
    const identity = checkRecipient(state, event.recipient);
    if (identity) return identity;
    const cash = takeCash(next, event.collectedVnd, occurredAt, courierId, 'on delivery', true);
    if (!cash.ok) return cash;
    next = { ...cash.state, status: 'delivered', attempts: [...state.attempts, { ...attempt, outcome: 'delivered', recipient: event.recipient }] };
    if (state.job) effects.push({ kind: 'close_job', jobId: state.job.jobId, outcome: 'done' });
    next = { ...next, job: null };
    effects.push(...cash.effects, notify(next, 'citizen', 'result.delivered'), notify(next, 'agency', 'result.delivered'));
    return { ok: true, state: next, effects };
  }
  if (!event.reason) return invalid('reason', 'is required when the attempt failed');
  if (event.collectedVnd) return refuse(422, 'cash-mismatch', 'Wrong cash amount', 'No cash is collected on a failed attempt');
  // Rules 2: the invitations go out from when the post learns of the failure: reported on a later
  // day, from the report, so a failure reported late does not send all of them at once.
  const reportedLater = rulesV2(state) && localDate(ctx.now) > localDate(parseInstant(occurredAt));
  const sentAt = reportedLater ? formatInstant(ctx.now) : occurredAt;
  const nextAt = `${ctx.calendar.addWorkingDays(localDate(sentAt), 2)}T08:00:00+07:00`;
  const returnAt = endOfLocalDay(ctx.calendar.addWorkingDays(localDate(nextAt), 2));
  next = {
    ...next,
    status: 'held_at_post_office',
    attempts: [...state.attempts, { ...attempt, outcome: 'failed', reason: event.reason, ...(event.note ? { note: event.note } : {}) }],
    invitations: { sentAt: [sentAt], nextAt, returnAt },
    job: null,
  };
  if (state.job) effects.push({ kind: 'close_job', jobId: state.job.jobId, outcome: 'failed' });
  effects.push(notify(next, 'citizen', 'result.invitation', { invitation: 1, reason: event.reason }));
  return { ok: true, state: next, effects };
}

function counterCollected(
  state: DossierState,
  event: Extract<DossierEvent, { type: 'counter.collected' }>,
  by: string,
  occurredAt: Instant,
): Decision {
  if (state.status !== 'held_at_post_office') return conflict(state, event.type);
  const identity = checkRecipient(state, event.recipient);
  if (identity) return identity;
  const cash = takeCash(state, event.collectedVnd, occurredAt, by, 'at the counter', true);
  if (!cash.ok) return cash;
  const next: DossierState = { ...cash.state, status: 'collected', invitations: { ...state.invitations, nextAt: null, returnAt: null } };
  return { ok: true, state: next, effects: [...cash.effects, notify(next, 'citizen', 'result.collected'), notify(next, 'agency', 'result.delivered')] };
}

function redeliveryRequested(state: DossierState, occurredAt: Instant): Decision {
  if (state.status !== 'held_at_post_office') return conflict(state, 'citizen.redelivery_requested');
  if (state.delivery?.method !== 'home' || !state.fees.redeliveryCharge) {
    return refuse(409, 'no-home-delivery', 'No home delivery', 'The citizen chose counter collection; there is no address to redeliver to');
  }
  const charge = state.fees.redeliveryCharge;
  const next: DossierState = {
    ...state,
    status: 'out_for_delivery',
    invitations: { sentAt: state.invitations.sentAt, nextAt: null, returnAt: null },
    fees: { ...state.fees, items: [...state.fees.items, { ...charge }] },
  };
  return {
    ok: true,
    state: next,
    effects: [
      { kind: 'dispatch_courier', purpose: 'redelivery', attempt: state.attempts.length + 1, address: state.delivery.address },
      notify(next, 'citizen', 'result.redelivery_scheduled', { chargeVnd: charge.amountVnd, requestedAt: occurredAt }),
    ],
  };
}

function withdrawn(state: DossierState, event: Extract<DossierEvent, { type: 'citizen.withdrawn' }>, occurredAt: Instant): Decision {
  if (!WITHDRAWABLE_STATUSES.has(state.status)) return conflict(state, event.type);
  let next = closeOpenDeadlines({ ...state, status: 'withdrawn', pickupRedispatchAt: null, job: null }, occurredAt);
  const effects: Effect[] = [{ kind: 'cancel_jobs', reason: 'withdrawn' }];
  const refund = refundUnowed(next);
  next = refund.state;
  effects.push(...refund.effects);
  if (state.handedOff || state.status !== 'submitted') effects.push({ kind: 'inform_agency', key: `${state.code}:withdrawn`, about: 'withdrawn' });
  effects.push(notify(next, 'citizen', 'dossier.withdrawn'));
  return { ok: true, state: next, effects };
}

// ---------------------------------------------------------------- side-effect outcomes

/** Applies the outcome of a side effect (never refused: the workflow caused it). */
export function applySystem(state: DossierState, event: SystemEvent, ctx: Context): { state: DossierState; effects: Effect[] } {
  const now = formatInstant(ctx.now);
  const effects: Effect[] = [];
  let next = state;
  let note: string | undefined;
  switch (event.type) {
    case 'system.handed_off':
      next = { ...state, handedOff: true, status: state.status === 'submitted' ? 'in_transit_to_agency' : state.status };
      note = event.channel;
      // Withdrawn while the (electronic) handoff was still queued: `withdrawn` did not inform the
      // agency, which had nothing yet; now it has the dossier, so it must hear of the withdrawal.
      if (state.status === 'withdrawn') effects.push({ kind: 'inform_agency', key: `${state.code}:withdrawn`, about: 'withdrawn' });
      break;
    case 'system.job_created': {
      if (TERMINAL_STATUSES.has(state.status)) {
        // Withdrawn while the job was being created: the compensation cancels it.
        effects.push({ kind: 'cancel_jobs', reason: state.status });
        note = `${event.job.jobId} cancelled`;
        break;
      }
      const courierIds =
        event.job.courierId && !state.courierIds.includes(event.job.courierId) ? [...state.courierIds, event.job.courierId] : state.courierIds;
      const status: DossierStatus =
        event.job.purpose === 'pickup' ? 'awaiting_pickup' : state.status === 'result_ready' || state.status === 'held_at_post_office' ? 'out_for_delivery' : state.status;
      next = { ...state, job: event.job, courierIds, status };
      note = event.job.courierId ? `assigned to ${event.job.courierId}` : 'unassigned: no courier covers the address';
      if (!event.job.courierId) effects.push(notify(next, 'manager', 'courier.job_unassigned', { jobId: event.job.jobId }));
      break;
    }
    case 'system.counter_notified': {
      if (state.status !== 'result_ready') break;
      const nextAt = `${ctx.calendar.addWorkingDays(localDate(now), 2)}T08:00:00+07:00`;
      const returnAt = endOfLocalDay(ctx.calendar.addWorkingDays(localDate(nextAt), 2));
      next = closeDeadline({ ...state, status: 'held_at_post_office', invitations: { sentAt: [now], nextAt, returnAt } }, 'delivery', now);
      break;
    }
    case 'system.payment_captured':
      if (state.fees.payments.some((p) => p.key === event.key)) return { state, effects };
      next = {
        ...state,
        fees: {
          ...state.fees,
          payments: [...state.fees.payments, { key: event.key, kind: 'capture', amountVnd: event.amountVnd, at: now, by: 'gateway', reference: event.reference }],
        },
      };
      // Withdrawn before the capture settled: give back what is not owed.
      if (state.status === 'withdrawn' || state.status === 'cancelled') {
        const refund = refundUnowed(next);
        next = refund.state;
        effects.push(...refund.effects);
      }
      break;
    case 'system.payment_declined':
      note = event.reason;
      effects.push(notify(state, 'citizen', 'payment.declined', { reason: event.reason }));
      break;
  }
  // Rules 2: a courier job and the counter notice happen in the world, and what a courier or the
  // counter reports follows them: a reported event may not predate them. Not the handoff (the paper
  // notice follows a pickup report that may come after the agency has the paper), not payments
  // (the gateway's timing), not timers (an event reported late is judged by when it happened).
  const happened = event.type === 'system.job_created' || event.type === 'system.counter_notified';
  const lastEventAt = rulesV2(state) && happened && ctx.now > parseInstant(state.lastEventAt) ? now : next.lastEventAt;
  next = {
    ...next,
    version: state.version + 1,
    lastEventAt,
    updatedAt: now,
    timeline: [...next.timeline, { type: event.type, occurredAt: now, recordedAt: now, by: { role: 'system', id: SYSTEM.id }, ...(note ? { note } : {}) }],
  };
  return { state: next, effects };
}

// ---------------------------------------------------------------- time

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

/**
 * Re-checks open deadlines against the current calendar (a holiday added
 * after the deadline was set moves it), then fires every alarm that is due.
 */
export function tick(state: DossierState, ctx: Context): { state: DossierState; effects: Effect[] } {
  const { now, calendar } = ctx;
  const nowIso = formatInstant(now);
  const effects: Effect[] = [];
  const timeline: DossierState['timeline'] = [];
  const system = (type: string, note?: string) =>
    timeline.push({ type, occurredAt: nowIso, recordedAt: nowIso, by: { role: 'system', id: SYSTEM.id }, ...(note ? { note } : {}) });

  let next = state;
  const deadlines = state.deadlines.map((d0) => {
    let d = d0;
    if (d.completedAt || d.pausedAt) return d;
    const recomputed = dueFor(d, state.settings, calendar);
    // Rules 2: a breach, once it happened, stays (a later holiday moves only open dues).
    const breachStays = rulesV2(state) && d.state === 'overdue';
    if (recomputed !== d.dueAt && !breachStays) {
      system('deadline.rescheduled', `${d.stage}: ${d.dueAt} → ${recomputed} (working calendar changed)`);
      // The index due follows only with a reschedule: a tick that changes nothing else must stay a no-op (replay).
      d = { ...d, dueAt: recomputed, indexDueAt: indexDueFor(state, d, calendar) };
      if (d.state === 'overdue' && parseInstant(recomputed) > now) d = { ...d, state: 'open', nextReminderAt: null };
      if (parseInstant(atRiskAt(calendar, recomputed)) > now) d = { ...d, atRisk: false, atRiskNotified: false };
    }
    const due = parseInstant(d.dueAt);
    if (d.state === 'open' && due <= now) {
      d = { ...d, state: 'overdue', atRisk: false, atRiskNotified: true };
      system('deadline.overdue', d.stage);
      const data = { stage: d.stage, dueAt: d.dueAt };
      effects.push(notify(state, ownerAudience(d.owner), 'deadline.overdue', data, `${d.stage}:${d.dueAt}`));
      effects.push(notify(state, 'manager', 'deadline.overdue', data, `${d.stage}:${d.dueAt}`));
      if (d.stage === 'processing' && !(d.revisedDueAt && parseInstant(d.revisedDueAt) > now)) {
        d = { ...d, nextReminderAt: nextWorkingMorning(calendar, now) };
      }
    } else if (d.state === 'open' && d.stage === 'processing' && !d.atRiskNotified && parseInstant(atRiskAt(calendar, d.dueAt)) <= now) {
      d = { ...d, atRisk: true, atRiskNotified: true };
      system('deadline.at_risk', d.stage);
      const data = { stage: d.stage, dueAt: d.dueAt };
      effects.push(notify(state, 'agency', 'deadline.at_risk', data, `${d.stage}:${d.dueAt}`));
      effects.push(notify(state, 'manager', 'deadline.at_risk', data, `${d.stage}:${d.dueAt}`));
    }
    if (d.stage === 'processing' && d.state === 'overdue') {
      if (d.revisedDueAt && !d.revisedDueNotified && parseInstant(d.revisedDueAt) <= now) {
        d = { ...d, revisedDueNotified: true, nextReminderAt: nextWorkingMorning(calendar, now) };
        system('deadline.revised_due_passed', d.stage);
        const data = { stage: d.stage, revisedDueAt: d.revisedDueAt };
        effects.push(notify(state, 'agency', 'deadline.revised_due_passed', data));
        effects.push(notify(state, 'manager', 'deadline.revised_due_passed', data));
      } else if (d.nextReminderAt && parseInstant(d.nextReminderAt) <= now) {
        effects.push(notify(state, 'agency', 'deadline.reminder', { stage: d.stage, dueAt: d.dueAt }, d.nextReminderAt));
        system('deadline.reminder', d.stage);
        d = { ...d, nextReminderAt: nextWorkingMorning(calendar, now) };
      }
    }
    return d;
  });
  next = { ...next, deadlines };

  if (next.pickupRedispatchAt && parseInstant(next.pickupRedispatchAt) <= now && next.status === 'awaiting_pickup') {
    effects.push({ kind: 'dispatch_courier', purpose: 'pickup', attempt: next.pickupFailures.length + 1, address: next.pickupAddress });
    system('courier.pickup_redispatched', `attempt ${next.pickupFailures.length + 1}`);
    next = { ...next, pickupRedispatchAt: null };
  }
  if (next.status === 'held_at_post_office') {
    const inv = next.invitations;
    if (inv.nextAt && parseInstant(inv.nextAt) <= now) {
      effects.push(notify(next, 'citizen', 'result.invitation', { invitation: inv.sentAt.length + 1 }, inv.nextAt));
      system('result.invitation_sent', `invitation ${inv.sentAt.length + 1}`);
      next = { ...next, invitations: { ...inv, sentAt: [...inv.sentAt, nowIso], nextAt: null } };
    } else if (!inv.nextAt && inv.returnAt && parseInstant(inv.returnAt) <= now) {
      next = { ...next, status: 'returned_to_agency', invitations: { ...inv, returnAt: null } };
      system('result.returned_to_agency');
      effects.push({ kind: 'cancel_jobs', reason: 'returned_to_agency' });
      effects.push(notify(next, 'agency', 'result.returned'), notify(next, 'citizen', 'result.returned'));
    }
  }

  if (!timeline.length) return { state, effects: [] };
  next = { ...next, version: state.version + 1, updatedAt: nowIso, timeline: [...next.timeline, ...timeline] };
  return { state: next, effects };
}

// ---------------------------------------------------------------- the view

export function feesView(state: DossierState): FeesView {
  const totalVnd = sum(state.fees.items.map((i) => i.amountVnd));
  const paidVnd = paid(state);
  const closedUnpaid = state.status === 'withdrawn' || state.status === 'cancelled';
  return {
    items: state.fees.items.map(({ name, amountVnd, payee }) => ({ name, amountVnd, payee })),
    totalVnd,
    paidVnd,
    dueVnd: closedUnpaid ? 0 : Math.max(0, totalVnd - paidVnd),
  };
}

export function toView(state: DossierState): DossierView {
  const deadlines: DeadlineView[] = state.deadlines.map((d) => ({
    stage: d.stage,
    owner: d.owner,
    startedAt: d.startedAt,
    dueAt: d.dueAt,
    revisedDueAt: d.revisedDueAt,
    completedAt: d.completedAt,
    state: d.state,
    atRisk: d.atRisk,
    workingDays: d.workingDays,
    supplementWorkingDays: d.supplementWorkingDays,
    indexDueAt: d.indexDueAt,
  }));
  // Rules 2: the earliest due still owed, overdue included (`Overdue` tells lateness apart).
  const owed = rulesV2(state) ? (d: DeadlineRecord) => !d.completedAt : (d: DeadlineRecord) => d.state === 'open';
  const open = state.deadlines.filter((d) => owed(d) && !d.pausedAt).map((d) => d.revisedDueAt ?? d.dueAt);
  const nextDueAt = open.length ? open.reduce((a, b) => (parseInstant(a) <= parseInstant(b) ? a : b)) : null;
  return {
    code: state.code,
    procedureCode: state.procedureCode,
    procedureName: state.procedure.name,
    agencyId: state.agencyId,
    agencyName: state.agency.name,
    status: state.status,
    outcome: state.outcome,
    resultRef: state.resultRef,
    rejectionReason: state.rejectionReason,
    receiptNo: state.receiptNo,
    services: state.services,
    pickupAddress: state.pickupAddress,
    delivery: state.delivery,
    payment: { method: state.payment.method },
    applicant: state.applicant,
    submittedAt: state.submittedAt,
    deadlines,
    nextDueAt,
    fees: feesView(state),
    attempts: state.attempts,
    pickupFailures: state.pickupFailures.map(({ occurredAt, reason }) => ({ occurredAt, reason })),
    timeline: state.timeline,
    apology: state.apology,
    supplementRequests: { count: state.supplementRequests.length, items: state.supplementRequests },
    agencyViolations: state.agencyViolations ?? [],
    multipleSupplementRequests: state.supplementRequests.length > 1,
    courierIds: state.courierIds,
    job: state.job,
    invitations: state.invitations,
    version: state.version,
    updatedAt: state.updatedAt,
  };
}

// ---------------------------------------------------------------- helpers

/** Whether the dossier runs under the lifecycle rules of 2 (docs/DECISIONS.md, "Lifecycle rules 2"). */
export function rulesV2(state: DossierState): boolean {
  return state.settings.rules === 2;
}

function withViolation(state: DossierState, violation: AgencyViolation): DossierState {
  return { ...state, agencyViolations: [...(state.agencyViolations ?? []), violation] };
}

export function deadline(state: DossierState, stage: Stage): DeadlineRecord | undefined {
  return state.deadlines.find((d) => d.stage === stage);
}

function dueFor(d: DeadlineRecord, settings: DossierSettings, cal: WorkingCalendar): Instant {
  const extra = d.stage === 'processing' && settings.supplementRule === 'pause' ? d.supplementWorkingDays : 0;
  return computeDueAt(cal, d.startedAt, d.workingDays + extra);
}

/**
 * Decision 766's due: from the lodging, plus the working days spent waiting
 * for supplements. Under `restart` `startedAt` has moved past the lodging, so
 * the lodging is read from the timeline (`agency.received` opens processing).
 */
function indexDueFor(state: DossierState, d: DeadlineRecord, cal: WorkingCalendar): Instant | null {
  if (d.stage !== 'processing') return null;
  const lodgedAt = state.timeline.find((t) => t.type === 'agency.received')?.occurredAt ?? d.startedAt;
  return computeDueAt(cal, lodgedAt, d.workingDays + d.supplementWorkingDays);
}

function openDeadline(state: DossierState, stage: Stage, owner: Owner, startedAt: Instant, workingDays: number, ctx: Context): DossierState {
  const dueAt = computeDueAt(ctx.calendar, startedAt, workingDays);
  const record: DeadlineRecord = {
    stage,
    owner,
    startedAt,
    dueAt,
    revisedDueAt: null,
    completedAt: null,
    state: 'open',
    workingDays,
    supplementWorkingDays: 0,
    indexDueAt: stage === 'processing' ? dueAt : null,
    pausedAt: null,
    atRisk: false,
    atRiskNotified: false,
    nextReminderAt: null,
    revisedDueNotified: false,
  };
  return { ...state, deadlines: [...state.deadlines.filter((d) => d.stage !== stage), record] };
}

function updateDeadline(state: DossierState, stage: Stage, f: (d: DeadlineRecord) => DeadlineRecord): DossierState {
  return { ...state, deadlines: state.deadlines.map((d) => (d.stage === stage ? f(d) : d)) };
}

/** Met on time when completed on or before the committed due (never the revised one). */
function closeDeadline(state: DossierState, stage: Stage, completedAt: Instant): DossierState {
  return updateDeadline(state, stage, (d) =>
    d.completedAt
      ? d
      : {
          ...d,
          completedAt,
          state: parseInstant(completedAt) <= parseInstant(d.dueAt) ? 'met_on_time' : 'met_late',
          pausedAt: null,
          atRisk: false,
          nextReminderAt: null,
        },
  );
}

/**
 * A withdrawn or cancelled dossier ends its open deadlines where it stopped:
 * Decision 766 counts "stopped" as the end of processing.
 */
function closeOpenDeadlines(state: DossierState, at: Instant): DossierState {
  return state.deadlines.filter((d) => !d.completedAt).reduce((s, d) => closeDeadline(s, d.stage, at), state);
}

function paid(state: DossierState): number {
  return sum(state.fees.payments.map((p) => (p.kind === 'refund' ? -p.amountVnd : p.amountVnd)));
}

function due(state: DossierState): number {
  return Math.max(0, sum(state.fees.items.map((i) => i.amountVnd)) - paid(state));
}

/** What the citizen owes for services already rendered, kept on withdrawal. */
function owed(state: DossierState): number {
  const received = state.deadlines.some((d) => d.stage === 'processing');
  const pickedUp = state.timeline.some((t) => t.type === 'courier.picked_up');
  return sum(
    state.fees.items
      .filter((i: FeeItem) => (i.kind === 'procedure' && received) || (i.kind === 'pickup' && pickedUp))
      .map((i) => i.amountVnd),
  );
}

function refundUnowed(state: DossierState): { state: DossierState; effects: Effect[] } {
  const refundable = paid(state) - owed(state);
  if (refundable <= 0) return { state, effects: [] };
  const captured = sum(state.fees.payments.filter((p) => p.kind === 'capture').map((p) => p.amountVnd));
  const refundedByGateway = sum(state.fees.payments.filter((p) => p.kind === 'refund' && p.by === 'gateway').map((p) => p.amountVnd));
  const viaGateway = Math.min(refundable, captured - refundedByGateway);
  const inCash = refundable - viaGateway;
  const payments: Payment[] = [];
  const effects: Effect[] = [];
  const at = state.lastEventAt;
  const n = state.fees.payments.filter((p) => p.kind === 'refund').length;
  if (viaGateway > 0) {
    const key = `${state.code}:refund:${n + 1}`;
    const reference = state.fees.payments.find((p) => p.kind === 'capture')?.reference;
    payments.push({ key, kind: 'refund', amountVnd: viaGateway, at, by: 'gateway', ...(reference ? { reference } : {}) });
    effects.push({ kind: 'refund', key, amountVnd: viaGateway, method: 'gateway', ...(reference ? { reference } : {}) });
  }
  if (inCash > 0) {
    const key = `${state.code}:refund:${n + payments.length + 1}`;
    payments.push({ key, kind: 'refund', amountVnd: inCash, at, by: 'cash' });
    effects.push({ kind: 'refund', key, amountVnd: inCash, method: 'cash' });
  }
  return { state: { ...state, fees: { ...state.fees, payments: [...state.fees.payments, ...payments] } }, effects };
}

/** Cash handed over by the citizen must settle exactly what is still owed. */
function takeCash(
  state: DossierState,
  collectedVnd: number | undefined,
  at: Instant,
  by: string,
  where: string,
  mustSettle = false,
): Decision {
  const owing = due(state);
  const amount = collectedVnd ?? 0;
  if (amount === 0 && (!mustSettle || owing === 0)) return { ok: true, state, effects: [] };
  if (amount !== owing) {
    return refuse(422, 'cash-mismatch', 'Wrong cash amount', `${owing} VND is owed ${where}; collectedVnd was ${amount}`, [
      { path: 'collectedVnd', message: `must equal the amount owed (${owing} VND)` },
    ]);
  }
  const key = `${state.code}:cash:${state.version + 1}`;
  return {
    ok: true,
    state: { ...state, fees: { ...state.fees, payments: [...state.fees.payments, { key, kind: 'cash', amountVnd: amount, at, by }] } },
    effects: [{ kind: 'record_cash', key, amountVnd: amount, by }],
  };
}

function checkRecipient(state: DossierState, r: Recipient): Decision | null {
  if (r.relationship === 'self' && normalizeId(r.idNumber) !== normalizeId(state.applicant.idNumber)) {
    return refuse(422, 'identity-mismatch', 'Identity does not match', "The recipient's ID number is not the applicant's", [
      { path: 'recipient.idNumber', message: "does not match the applicant's" },
    ]);
  }
  if (r.relationship === 'proxy' && !r.authorizationRef) {
    return refuse(422, 'authorization-required', 'Written authorisation required', 'A proxy must show a written authorisation', [
      { path: 'recipient.authorizationRef', message: 'is required for a proxy' },
    ]);
  }
  return null;
}

function courierOwnsJob(state: DossierState, actor: EventCommand['actor']): Decision | null {
  // An unassigned job (no courier covers the address) may be taken by any courier.
  if (state.job?.courierId && state.job.courierId !== actor.courierId) {
    return refuse(404, 'not-found', 'Dossier not found', `No job for dossier ${state.code} is assigned to you`);
  }
  return null;
}

function normalizeId(id: string): string {
  return id.replace(/\s+/g, '').toUpperCase();
}

function ownerAudience(owner: Owner): Audience {
  return owner === 'agency' ? 'agency' : 'manager';
}

function notify(state: DossierState, audience: Audience, template: string, data?: Record<string, unknown>, discriminator?: string): Extract<Effect, { kind: 'notify' }> {
  const key = `${state.code}:${template}:${audience}:${discriminator ?? state.version}`;
  return { kind: 'notify', key, audience, template, ...(data ? { data } : {}) };
}

function conflict(state: DossierState, type: string): Decision & { ok: false } {
  return refuse(409, 'invalid-transition', 'Event not valid now', `${type} is not valid while the dossier is ${state.status}`);
}

function invalid(path: string, message: string): Decision & { ok: false } {
  return refuse(400, 'validation', 'Invalid event', `${path} ${message}`, [{ path, message }]);
}

function refuse(status: Refusal['status'], type: string, title: string, detail: string, errors?: Refusal['errors']): Decision & { ok: false } {
  return { ok: false, refusal: { status, type, title, detail, ...(errors ? { errors } : {}) } };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
