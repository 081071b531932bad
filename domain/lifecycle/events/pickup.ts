/** The pickup leg: a courier collects the paper, or fails to (three times cancels). */
import { nextWorkingMorning } from '../../calendar';
import type { DossierState } from '../../dossier';
import { transitDays } from '../../routes';
import { closeDeadline, closeOpenDeadlines, openDeadline } from '../deadlines';
import { notify } from '../effects';
import { refundUnowed, takeCash } from '../money';
import { conflict, courierOwnsJob, refuse } from '../refusals';
import type { Decision, Effect, Reported } from '../types';

/** Failed pickups after which the dossier is cancelled. */
export const MAX_PICKUP_FAILURES = 3;

export function pickedUp({ state, event, actor, occurredAt, ctx }: Reported<'courier.picked_up'>): Decision {
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

export function pickupFailed({ state, event, actor, occurredAt, ctx }: Reported<'courier.pickup_failed'>): Decision {
  if (state.status !== 'awaiting_pickup') return conflict(state, event.type);
  if (!state.job) return refuse(409, 'no-pickup-job', 'No pickup under way', 'The pickup is re-dispatched on the next working day');
  const mine = courierOwnsJob(state, actor);
  if (mine) return mine;
  const failures = [...state.pickupFailures, { occurredAt, reason: event.reason, courierId: actor.courierId ?? actor.id }];
  const effects: Effect[] = [{ kind: 'close_job', jobId: state.job.jobId, outcome: 'failed' }];
  let next: DossierState = { ...state, pickupFailures: failures, job: null };
  if (failures.length >= MAX_PICKUP_FAILURES) {
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
