/**
 * The clients: dossiers driven through the public API along every path,
 * retrying what got no answer or a 503 as a client would, and recording what
 * the API acknowledged.
 */
import type { DossierView } from '../../domain/dossier';
import type { Submission } from '../../domain/types';
import { homeSubmission } from '../../reference-data/example-submissions';
import { call, retryable, run, secs, sleep, stepTimeoutMs, tokens } from './run';

const SUBMITTED_AT = '2026-01-05T09:15:00+07:00';
const SELF = { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' as const };

export type PathName = 'collect-deliver-prepaid' | 'supplement' | 'electronic-counter-cash' | 'pickup-failed' | 'declined';
export const PATHS: PathName[] = ['collect-deliver-prepaid', 'supplement', 'electronic-counter-cash', 'pickup-failed', 'declined'];

let serial = 0;
export function newSubmission(pathName: PathName): Submission {
  serial += 1;
  const code = `CH-${run.t0.toString(36)}-${serial}`;
  const base: Submission = { ...homeSubmission(code), payment: { method: 'prepaid', reference: `PAY-${code}` }, submittedAt: SUBMITTED_AT };
  if (pathName === 'electronic-counter-cash') {
    return { ...base, procedureCode: '2.000720', agencyId: 'HL-UBND', services: { collect: false, deliver: true }, pickupAddress: undefined, delivery: { method: 'counter' }, payment: { method: 'cash' } };
  }
  if (pathName === 'declined') return { ...base, payment: { method: 'prepaid', reference: `PAY-DECLINE-${code}` } };
  return base;
}

class JourneyError extends Error {}

const MAX_ABANDONED = 25;

/** Submits until acknowledged; a 503 abandons that code (it must leave nothing) and tries a new one. */
async function submit(pathName: PathName): Promise<Submission> {
  const until = Date.now() + stepTimeoutMs();
  for (;;) {
    const sub = newSubmission(pathName);
    for (;;) {
      const res = await call('POST', 'submission', '/v1/dossiers', tokens.portal, sub);
      if ([200, 201, 202].includes(res.status)) {
        run.acknowledged.add(sub.code);
        return sub;
      }
      // Abandoned (to check it left nothing) up to a bound, so a long outage does not multiply the codes to check.
      if (res.status === 503 && run.refused.size < MAX_ABANDONED) {
        run.refused.add(sub.code);
        break;
      }
      if (!retryable(res.status)) throw new JourneyError(`submission ${sub.code}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      if (Date.now() > until) throw new JourneyError(`submission ${sub.code}: no answer within ${secs(stepTimeoutMs())} s`);
      // No answer: the outcome is unknown, so the same request again (idempotent by code).
      await sleep(1000);
    }
    if (Date.now() > until) throw new JourneyError(`submission: only 503s for ${secs(stepTimeoutMs())} s`);
    await sleep(1000);
  }
}

async function view(code: string): Promise<DossierView | null> {
  const res = await call('GET', 'read', `/v1/dossiers/${code}`, tokens.manager);
  return res.status === 200 ? (res.body as DossierView) : null;
}

async function waitFor(code: string, what: string, ok: (v: DossierView) => boolean): Promise<DossierView> {
  const until = Date.now() + stepTimeoutMs();
  let last: DossierView | null = null;
  for (;;) {
    last = (await view(code)) ?? last;
    if (last && ok(last)) return last;
    if (Date.now() > until) throw new JourneyError(`${code}: not ${what} within ${secs(stepTimeoutMs())} s (status ${last?.status ?? '?'})`);
    await sleep(1000);
  }
}

async function event(code: string, step: string, token: string, body: Record<string, unknown>): Promise<DossierView> {
  const eventId = `${code}:${step}`;
  const until = Date.now() + stepTimeoutMs();
  for (;;) {
    const res = await call('POST', `event ${String(body.type)}`, `/v1/dossiers/${code}/events`, token, { ...body, eventId });
    if (res.status >= 200 && res.status < 300) {
      run.ackedEvents.set(eventId, code);
      return res.body as DossierView;
    }
    if (!retryable(res.status)) throw new JourneyError(`${code} ${String(body.type)}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    if (Date.now() > until) throw new JourneyError(`${code} ${String(body.type)}: no answer within ${secs(stepTimeoutMs())} s`);
    await sleep(1000);
  }
}

const courierOf = (v: DossierView) => tokens.courier(v.job?.courierId ?? 'HL-BT01');

async function journey(pathName: PathName): Promise<void> {
  let code = '?';
  try {
    const sub = await submit(pathName);
    code = sub.code;
    const agency = tokens.agency(sub.agencyId);
    if (pathName === 'declined') {
      await waitFor(code, 'declined', (v) => v.timeline.some((t) => t.type === 'system.payment_declined'));
    } else if (pathName === 'electronic-counter-cash') {
      await waitFor(code, 'handed off', (v) => v.status === 'in_transit_to_agency');
      await event(code, 'received', agency, { type: 'agency.received', receiptNo: 'BN-1' });
      await event(code, 'completed', agency, { type: 'agency.completed', outcome: 'approved', resultRef: 'KQ-1' });
      const held = await waitFor(code, 'held at the post office', (v) => v.status === 'held_at_post_office');
      await event(code, 'collected', tokens.clerk, { type: 'counter.collected', recipient: SELF, collectedVnd: held.fees.dueVnd });
    } else {
      const awaiting = await waitFor(code, 'awaiting pickup', (v) => v.status === 'awaiting_pickup' && v.job !== null && v.fees.paidVnd > 0);
      if (pathName === 'pickup-failed') {
        await event(code, 'pickup-failed', courierOf(awaiting), { type: 'courier.pickup_failed', reason: 'nobody home' });
      } else {
        await event(code, 'picked-up', courierOf(awaiting), { type: 'courier.picked_up' });
        await event(code, 'received', agency, { type: 'agency.received', receiptNo: 'BN-1' });
        if (pathName === 'supplement') {
          await event(code, 'supplement-requested', agency, { type: 'agency.supplement_requested', reason: 'thiếu bản sao', items: ['bản sao CCCD'] });
          await event(code, 'supplement-provided', tokens.portal, { type: 'citizen.supplement_provided', note: 'đã bổ sung' });
        }
        await event(code, 'completed', agency, { type: 'agency.completed', outcome: 'approved', resultRef: 'KQ-1' });
        const out = await waitFor(code, 'out for delivery', (v) => v.status === 'out_for_delivery' && v.job !== null);
        await event(code, 'delivered', courierOf(out), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF });
      }
    }
    run.journeys.push({ code, path: pathName, outcome: 'done' });
  } catch (err) {
    run.journeys.push({ code, path: pathName, outcome: err instanceof JourneyError ? err.message : String(err) });
  }
}

/** `count` journeys by `opts.concurrency` clients, the paths in turn from `offset`. */
export async function runPool(count: number, offset: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(run.opts.concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        await journey(PATHS[(offset + i) % PATHS.length]!);
      }
    }),
  );
}
