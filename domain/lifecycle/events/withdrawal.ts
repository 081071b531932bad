/** The citizen withdraws: jobs cancelled, what is not owed refunded, the agency told if it has the dossier. */
import { WITHDRAWABLE_STATUSES } from '../../dossier';
import { closeOpenDeadlines } from '../deadlines';
import { informAgencyOfWithdrawal, notify } from '../effects';
import { refundUnowed } from '../money';
import { conflict } from '../refusals';
import type { Decision, Effect, Reported } from '../types';

export function withdrawn({ state, event, occurredAt }: Reported<'citizen.withdrawn'>): Decision {
  if (!WITHDRAWABLE_STATUSES.has(state.status)) return conflict(state, event.type);
  let next = closeOpenDeadlines({ ...state, status: 'withdrawn', pickupRedispatchAt: null, job: null }, occurredAt);
  const effects: Effect[] = [{ kind: 'cancel_jobs', reason: 'withdrawn' }];
  const refund = refundUnowed(next);
  next = refund.state;
  effects.push(...refund.effects);
  if (state.handedOff || state.status !== 'submitted') effects.push(informAgencyOfWithdrawal(state));
  effects.push(notify(next, 'citizen', 'dossier.withdrawn'));
  return { ok: true, state: next, effects };
}
