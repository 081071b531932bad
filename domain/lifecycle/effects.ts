/** Building the effects the lifecycle asks for. */
import type { DossierState, Owner } from '../dossier';
import type { Audience, Effect } from './types';

/** A notice; its key (the outbox's idempotency key) is unique per dossier version unless `discriminator` says otherwise. */
export function notify(
  state: DossierState,
  audience: Audience,
  template: string,
  data?: Record<string, unknown>,
  discriminator?: string,
): Extract<Effect, { kind: 'notify' }> {
  const key = `${state.code}:${template}:${audience}:${discriminator ?? state.version}`;
  return { kind: 'notify', key, audience, template, ...(data ? { data } : {}) };
}

/** Who answers for a deadline's owner: the agency for its own, the post's managers for the post's. */
export function ownerAudience(owner: Owner): Audience {
  return owner === 'agency' ? 'agency' : 'manager';
}

/** Telling the agency of a withdrawal, once (keyed per dossier). */
export function informAgencyOfWithdrawal(state: DossierState): Effect {
  return { kind: 'inform_agency', key: `${state.code}:withdrawn`, about: 'withdrawn' };
}
