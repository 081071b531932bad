/** The return leg: a delivery attempt, collection at the counter, redelivery on request. */
import { formatInstant, localDate, parseInstant } from '../../calendar';
import type { DossierState } from '../../dossier';
import { closeDeadline, invitationSchedule, rulesV2 } from '../deadlines';
import { notify } from '../effects';
import { takeCash } from '../money';
import { checkRecipient, conflict, courierOwnsJob, invalid, refuse } from '../refusals';
import type { Decision, Effect, Reported } from '../types';

export function deliveryAttempted({ state, event, actor, occurredAt, ctx }: Reported<'courier.delivery_attempted'>): Decision {
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
  next = {
    ...next,
    status: 'held_at_post_office',
    attempts: [...state.attempts, { ...attempt, outcome: 'failed', reason: event.reason, ...(event.note ? { note: event.note } : {}) }],
    invitations: { sentAt: [sentAt], ...invitationSchedule(ctx.calendar, sentAt) },
    job: null,
  };
  if (state.job) effects.push({ kind: 'close_job', jobId: state.job.jobId, outcome: 'failed' });
  effects.push(notify(next, 'citizen', 'result.invitation', { invitation: 1, reason: event.reason }));
  return { ok: true, state: next, effects };
}

export function counterCollected({ state, event, by, occurredAt }: Reported<'counter.collected'>): Decision {
  if (state.status !== 'held_at_post_office') return conflict(state, event.type);
  const identity = checkRecipient(state, event.recipient);
  if (identity) return identity;
  const cash = takeCash(state, event.collectedVnd, occurredAt, by, 'at the counter', true);
  if (!cash.ok) return cash;
  const next: DossierState = { ...cash.state, status: 'collected', invitations: { ...state.invitations, nextAt: null, returnAt: null } };
  return { ok: true, state: next, effects: [...cash.effects, notify(next, 'citizen', 'result.collected'), notify(next, 'agency', 'result.delivered')] };
}

export function redeliveryRequested({ state, occurredAt }: Reported<'citizen.redelivery_requested'>): Decision {
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
