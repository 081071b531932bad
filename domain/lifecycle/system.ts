/** `applySystem`: the outcome of a side effect the workflow ran, applied (never refused). */
import { formatInstant, parseInstant } from '../calendar';
import { TERMINAL_STATUSES, type DossierState, type DossierStatus } from '../dossier';
import type { Instant } from '../types';
import { closeDeadline, invitationSchedule, rulesV2 } from './deadlines';
import { informAgencyOfWithdrawal, notify } from './effects';
import { refundUnowed } from './money';
import { SYSTEM, type Context, type Effect, type Outcome, type SystemEvent } from './types';

/** The state an outcome leads to, its effects, and a note for the timeline. */
interface Applied {
  next: DossierState;
  effects: Effect[];
  note?: string;
}

/** Applies the outcome of a side effect (never refused: the workflow caused it). */
export function applySystem(state: DossierState, event: SystemEvent, ctx: Context): Outcome {
  const now = formatInstant(ctx.now);
  // A capture already recorded (a retried activity's answer) changes nothing.
  if (event.type === 'system.payment_captured' && state.fees.payments.some((p) => p.key === event.key)) return { state, effects: [] };
  const { next, effects, note } = outcomeOf(state, event, now, ctx);
  // Rules 2: a courier job and the counter notice happen in the world, and what a courier or the
  // counter reports follows them: a reported event may not predate them. Not the handoff (the paper
  // notice follows a pickup report that may come after the agency has the paper), not payments
  // (the gateway's timing), not timers (an event reported late is judged by when it happened).
  const happened = event.type === 'system.job_created' || event.type === 'system.counter_notified';
  const lastEventAt = rulesV2(state) && happened && ctx.now > parseInstant(state.lastEventAt) ? now : next.lastEventAt;
  return {
    state: {
      ...next,
      version: state.version + 1,
      lastEventAt,
      updatedAt: now,
      timeline: [...next.timeline, { type: event.type, occurredAt: now, recordedAt: now, by: { role: 'system', id: SYSTEM.id }, ...(note ? { note } : {}) }],
    },
    effects,
  };
}

function outcomeOf(state: DossierState, event: SystemEvent, now: Instant, ctx: Context): Applied {
  switch (event.type) {
    case 'system.handed_off':
      return {
        next: { ...state, handedOff: true, status: state.status === 'submitted' ? 'in_transit_to_agency' : state.status },
        // Withdrawn while the (electronic) handoff was still queued: `withdrawn` did not inform the
        // agency, which had nothing yet; now it has the dossier, so it must hear of the withdrawal.
        effects: state.status === 'withdrawn' ? [informAgencyOfWithdrawal(state)] : [],
        note: event.channel,
      };
    case 'system.job_created':
      return jobCreated(state, event.job);
    case 'system.counter_notified': {
      if (state.status !== 'result_ready') return { next: state, effects: [] };
      const invitations = { sentAt: [now], ...invitationSchedule(ctx.calendar, now) };
      return { next: closeDeadline({ ...state, status: 'held_at_post_office', invitations }, 'delivery', now), effects: [] };
    }
    case 'system.payment_captured': {
      const capture = { key: event.key, kind: 'capture' as const, amountVnd: event.amountVnd, at: now, by: 'gateway', reference: event.reference };
      const next: DossierState = { ...state, fees: { ...state.fees, payments: [...state.fees.payments, capture] } };
      // Withdrawn before the capture settled: give back what is not owed.
      if (state.status === 'withdrawn' || state.status === 'cancelled') {
        const refund = refundUnowed(next);
        return { next: refund.state, effects: refund.effects };
      }
      return { next, effects: [] };
    }
    case 'system.payment_declined':
      return { next: state, effects: [notify(state, 'citizen', 'payment.declined', { reason: event.reason })], note: event.reason };
  }
}

function jobCreated(state: DossierState, job: Extract<SystemEvent, { type: 'system.job_created' }>['job']): Applied {
  if (TERMINAL_STATUSES.has(state.status)) {
    // Withdrawn while the job was being created: the compensation cancels it.
    return { next: state, effects: [{ kind: 'cancel_jobs', reason: state.status }], note: `${job.jobId} cancelled` };
  }
  const courierIds = job.courierId && !state.courierIds.includes(job.courierId) ? [...state.courierIds, job.courierId] : state.courierIds;
  const status: DossierStatus =
    job.purpose === 'pickup' ? 'awaiting_pickup' : state.status === 'result_ready' || state.status === 'held_at_post_office' ? 'out_for_delivery' : state.status;
  const next = { ...state, job, courierIds, status };
  const note = job.courierId ? `assigned to ${job.courierId}` : 'unassigned: no courier covers the address';
  return { next, effects: job.courierId ? [] : [notify(next, 'manager', 'courier.job_unassigned', { jobId: job.jobId })], note };
}
