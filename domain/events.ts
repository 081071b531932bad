import type { Recipient } from './dossier';
import type { Role } from './types';

/** Events reported through `POST /v1/dossiers/{code}/events` (DESIGN.md §3). */
export type DossierEvent =
  | { type: 'courier.picked_up'; collectedVnd?: number }
  | { type: 'courier.pickup_failed'; reason: string }
  | { type: 'agency.received'; receiptNo?: string }
  | { type: 'agency.supplement_requested'; reason: string; items: string[] }
  | { type: 'citizen.supplement_provided'; note?: string }
  | { type: 'agency.apologized'; newDueDate: string; reason: string }
  | { type: 'agency.completed'; outcome: 'approved' | 'rejected'; resultRef?: string; reason?: string }
  | {
      type: 'courier.delivery_attempted';
      outcome: 'delivered' | 'failed';
      recipient?: Recipient;
      reason?: 'not_home' | 'wrong_address' | 'refused' | 'other';
      note?: string;
      collectedVnd?: number;
    }
  | { type: 'counter.collected'; recipient: Recipient; collectedVnd?: number }
  | { type: 'citizen.redelivery_requested'; note?: string }
  | { type: 'citizen.withdrawn'; reason: string };

export type DossierEventType = DossierEvent['type'];

export const EVENT_TYPES = [
  'courier.picked_up',
  'courier.pickup_failed',
  'agency.received',
  'agency.supplement_requested',
  'citizen.supplement_provided',
  'agency.apologized',
  'agency.completed',
  'courier.delivery_attempted',
  'counter.collected',
  'citizen.redelivery_requested',
  'citizen.withdrawn',
] as const satisfies readonly DossierEventType[];

/** Which role reports which event. */
export const EVENT_ROLES: Record<DossierEventType, Role> = {
  'courier.picked_up': 'courier',
  'courier.pickup_failed': 'courier',
  'agency.received': 'agency',
  'agency.supplement_requested': 'agency',
  'citizen.supplement_provided': 'portal',
  'agency.apologized': 'agency',
  'agency.completed': 'agency',
  'courier.delivery_attempted': 'courier',
  'counter.collected': 'clerk',
  'citizen.redelivery_requested': 'portal',
  'citizen.withdrawn': 'portal',
};

/** An event as it reaches the workflow: who reported it and, optionally, when it happened. */
export interface EventCommand {
  event: DossierEvent;
  actor: { role: Role; id: string; agencyId?: string; courierId?: string };
  /** ISO 8601 with offset; defaults to the workflow's now. */
  occurredAt?: string;
  eventId?: string;
}

/** A refusal the API turns into problem+json (status and slug are the contract). */
export interface Refusal {
  status: 400 | 403 | 404 | 409 | 422;
  type: string;
  title: string;
  detail: string;
  errors?: { path: string; message: string }[];
}
