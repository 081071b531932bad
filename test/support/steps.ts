/**
 * Shortcuts the workflow tests share to bring a dossier to a given stage.
 * Every step goes through the real workflow (updates, activities, timers).
 */
import type { DeadlineView, DossierView } from '../../domain/dossier';
import type { Submission } from '../../domain/types';
import { HA_LONG_HOME, submission } from './fixtures';
import { at } from './time';
import { agency, courier, type WorkflowHarness } from './workflow-harness';

export const SELF = { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' as const };

export function deadline(v: Pick<DossierView, 'deadlines'>, stage: DeadlineView['stage']): DeadlineView {
  const d = v.deadlines.find((x) => x.stage === stage);
  if (!d) throw new Error(`no ${stage} deadline in ${JSON.stringify(v.deadlines.map((x) => x.stage))}`);
  return d;
}

/**
 * Business household registration (2.000720, 3 working days, fee 100,000) at
 * the Hạ Long one-stop desk, sent electronically, result delivered at home in
 * Hạ Long (22,000), prepaid: 122,000 in all.
 */
export function electronicSubmission(monday: string, overrides: Partial<Submission> = {}): Submission {
  return submission({
    procedureCode: '2.000720',
    agencyId: 'HL-UBND',
    services: { collect: false, deliver: true },
    pickupAddress: undefined,
    delivery: { method: 'home', address: HA_LONG_HOME },
    payment: { method: 'prepaid', reference: 'PAY-E' },
    submittedAt: at(monday, 0, '09:15'),
    ...overrides,
  });
}

/** Submits electronically and has the agency sign receipt at `receivedAt` (advancing the clock there). */
export async function toProcessing(h: WorkflowHarness, sub: Submission, receivedAt: string): Promise<DossierView> {
  await h.submit(sub);
  await h.until(sub.code, (v) => v.status === 'in_transit_to_agency', 'electronic handoff');
  if (sub.payment.method === 'prepaid') await h.until(sub.code, (v) => v.fees.paidVnd > 0 || hasDecline(v), 'capture');
  await h.advanceTo(receivedAt);
  return h.event(sub.code, agency(sub.agencyId), { type: 'agency.received', receiptNo: 'BN-1' }, { occurredAt: receivedAt });
}

function hasDecline(v: DossierView): boolean {
  return v.timeline.some((t) => t.type === 'system.payment_declined');
}

/** Completes (approved) at `completedAt` and waits for the delivery job. */
export async function toOutForDelivery(h: WorkflowHarness, sub: Submission, completedAt: string): Promise<DossierView> {
  await h.advanceTo(completedAt);
  await h.event(sub.code, agency(sub.agencyId), { type: 'agency.completed', outcome: 'approved', resultRef: 'KQ-1' }, { occurredAt: completedAt });
  return h.until(sub.code, (v) => v.status === 'out_for_delivery' && v.job !== null, 'delivery dispatch');
}

/** Collect-and-deliver submission: waits until the courier is dispatched (and the prepaid capture settled). */
export async function toAwaitingPickup(h: WorkflowHarness, sub: Submission): Promise<DossierView> {
  await h.submit(sub);
  return h.until(
    sub.code,
    (v) => v.status === 'awaiting_pickup' && v.job !== null && (sub.payment.method !== 'prepaid' || v.fees.paidVnd > 0),
    'pickup dispatch',
  );
}

export async function pickUp(h: WorkflowHarness, sub: Submission, pickedUpAt: string, courierId = 'HL-BT01'): Promise<DossierView> {
  await h.advanceTo(pickedUpAt);
  return h.event(sub.code, courier(courierId), { type: 'courier.picked_up' }, { occurredAt: pickedUpAt });
}

/** Templates in the outbox, optionally for one audience. */
export async function templates(h: WorkflowHarness, code: string, audience?: string): Promise<string[]> {
  return (await h.outbox(code)).filter((m) => !audience || m.audience === audience).map((m) => m.template as string);
}

export function count<T>(xs: T[], x: T): number {
  return xs.filter((y) => y === x).length;
}

/** Retries an assertion (in real time) until it passes: effects run in activities after an event's answer. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * An instant the workflow stamped when a timer fired: the timer's time, give or
 * take the milliseconds the workflow task took to start.
 */
export function firedAt(iso: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(\+07:00)$/.exec(iso);
  if (!m) throw new Error(`not a whole-second +07:00 instant: ${iso}`);
  return expect.stringMatching(new RegExp(`^${m[1]!.replace(/[.+]/g, '\\$&')}(\\.\\d{3})?\\+07:00$`)) as unknown as string;
}
