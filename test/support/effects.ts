import type { DossierState } from '../../domain/dossier';
import { applySystem, type Context, type Effect } from '../../domain/lifecycle';

type Outcome = Parameters<typeof applySystem>[1];

/**
 * What a worker reports back after running an effect, as the pure lifecycle
 * tests play it: every courier job, handoff and capture succeeds, a
 * notification carries its follow-up; the other effects report nothing.
 */
export function workerOutcome(state: DossierState, e: Effect): Outcome | null {
  switch (e.kind) {
    case 'dispatch_courier':
      return { type: 'system.job_created', job: { jobId: `${state.code}:${e.purpose}:${e.attempt}`, purpose: e.purpose, attempt: e.attempt, courierId: 'HL-BT01' } };
    case 'hand_off':
      return { type: 'system.handed_off', channel: 'manual' };
    case 'capture_payment':
      return { type: 'system.payment_captured', key: e.key, amountVnd: e.amountVnd, reference: 'cap' };
    case 'notify':
      return e.then ?? null;
    default:
      return null;
  }
}

/** Plays the effects as a worker would (at the context's time), feeding their outcomes back; the state after them. */
export function settle(state: DossierState, effects: Effect[], ctx: Context): DossierState {
  const queue = [...effects];
  let s = state;
  while (queue.length) {
    const outcome = workerOutcome(s, queue.shift()!);
    if (outcome) {
      const r = applySystem(s, outcome, ctx);
      s = r.state;
      queue.push(...r.effects);
    }
  }
  return s;
}
