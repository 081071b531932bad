/** `decide`: a reported event checked (who, when, in which status) and applied, or refused. */
import { formatInstant, parseInstant } from '../calendar';
import { TERMINAL_STATUSES, type DossierState } from '../dossier';
import { EVENT_ROLES, type DossierEventType, type EventCommand } from '../events';
import { pickedUp, pickupFailed } from './events/pickup';
import { apologized, completed, received, supplementProvided, supplementRequested } from './events/processing';
import { counterCollected, deliveryAttempted, redeliveryRequested } from './events/result';
import { withdrawn } from './events/withdrawal';
import { conflict, invalid, refuse } from './refusals';
import type { Context, Decision, Reported } from './types';

/** How far ahead of the workflow's clock a reported `occurredAt` may be (devices' clocks drift). */
export const MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000;

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
  const at = occurredAtOf(state, cmd, ctx);
  if (typeof at !== 'number') return at;
  const occurredAt = formatInstant(at);
  const by = actor.role === 'courier' ? actor.courierId ?? actor.id : actor.role === 'agency' ? actor.agencyId ?? actor.id : actor.id;

  const result = apply({ state, event, actor, by, occurredAt, ctx });
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

/** When the event happened: as reported (not ahead of now, not before the previous event), or now. */
function occurredAtOf(state: DossierState, cmd: EventCommand, ctx: Context): number | Decision {
  if (cmd.occurredAt === undefined) return Math.max(ctx.now, parseInstant(state.lastEventAt));
  const at = parseInstant(cmd.occurredAt);
  if (Number.isNaN(at)) return invalid('occurredAt', 'must be an ISO 8601 instant with offset');
  if (at > ctx.now + MAX_CLOCK_AHEAD_MS) return invalid('occurredAt', 'is more than 5 minutes in the future');
  if (at < parseInstant(state.lastEventAt)) {
    return invalid('occurredAt', `is before the dossier's previous event (${state.lastEventAt})`);
  }
  return at;
}

/** One handler per event type; each checks the status it applies in. */
const HANDLERS: { [T in DossierEventType]: (reported: Reported<T>) => Decision } = {
  'courier.picked_up': pickedUp,
  'courier.pickup_failed': pickupFailed,
  'agency.received': received,
  'agency.supplement_requested': supplementRequested,
  'citizen.supplement_provided': supplementProvided,
  'agency.apologized': apologized,
  'agency.completed': completed,
  'courier.delivery_attempted': deliveryAttempted,
  'counter.collected': counterCollected,
  'citizen.redelivery_requested': redeliveryRequested,
  'citizen.withdrawn': withdrawn,
};

function apply<T extends DossierEventType>(reported: Reported<T>): Decision {
  // TypeScript does not correlate HANDLERS[type] with the event's type on its own.
  const handler = HANDLERS[reported.event.type as T] as (r: Reported<T>) => Decision;
  return handler(reported);
}
