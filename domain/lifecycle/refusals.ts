/** Refusals of reported events, and the checks that share them. */
import type { DossierState, Recipient } from '../dossier';
import type { EventCommand, Refusal } from '../events';
import type { Decision } from './types';

export type Refused = Decision & { ok: false };

export function refuse(status: Refusal['status'], type: string, title: string, detail: string, errors?: Refusal['errors']): Refused {
  return { ok: false, refusal: { status, type, title, detail, ...(errors ? { errors } : {}) } };
}

/** The event does not fit the dossier's status. */
export function conflict(state: DossierState, type: string): Refused {
  return refuse(409, 'invalid-transition', 'Event not valid now', `${type} is not valid while the dossier is ${state.status}`);
}

export function invalid(path: string, message: string): Refused {
  return refuse(400, 'validation', 'Invalid event', `${path} ${message}`, [{ path, message }]);
}

/** The applicant in person (same ID number) or a proxy with a written authorisation. */
export function checkRecipient(state: DossierState, r: Recipient): Refused | null {
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

export function courierOwnsJob(state: DossierState, actor: EventCommand['actor']): Refused | null {
  // An unassigned job (no courier covers the address) may be taken by any courier.
  if (state.job?.courierId && state.job.courierId !== actor.courierId) {
    return refuse(404, 'not-found', 'Dossier not found', `No job for dossier ${state.code} is assigned to you`);
  }
  return null;
}

function normalizeId(id: string): string {
  return id.replace(/\s+/g, '').toUpperCase();
}
