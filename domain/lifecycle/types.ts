/** The lifecycle's inputs and outputs: what it is told, and the effects it asks for. */
import type { WorkingCalendar } from '../calendar';
import type { Actor, CourierJobRef, DossierSettings, DossierState } from '../dossier';
import type { DossierEvent, DossierEventType, EventCommand, Refusal } from '../events';
import type { Address, Agency, Instant, Procedure, Submission, Tariff } from '../types';

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

/** A reported event of type `T` with what `decide` established about it: the handlers' one argument. */
export interface Reported<T extends DossierEventType> {
  state: DossierState;
  event: Extract<DossierEvent, { type: T }>;
  actor: EventCommand['actor'];
  /** The actor's id as the timeline records it (the courier's or the agency's, for them). */
  by: string;
  /** Checked: not ahead of the clock, not before the dossier's previous event. */
  occurredAt: Instant;
  ctx: Context;
}

/** A state change with the effects it starts; never refused. */
export interface Outcome {
  state: DossierState;
  effects: Effect[];
}

export interface Registration {
  submission: Submission;
  procedure: Procedure;
  agency: Agency;
  tariff: Tariff;
  settings: DossierSettings;
}

/** Who the lifecycle's own timeline entries (timers, effect outcomes) are by. */
export const SYSTEM: Actor = { role: 'system', id: 'workflow' };
