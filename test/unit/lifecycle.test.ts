import fc from 'fast-check';
import { WorkingCalendar, formatInstant, parseInstant } from '../../domain/calendar';
import { TERMINAL_STATUSES, type DossierState } from '../../domain/dossier';
import type { DossierEvent, EventCommand } from '../../domain/events';
import { applySystem, decide, feesView, nextAlarmAt, register, tick, toView } from '../../domain/lifecycle';
import * as ref from '../../reference-data';
import { settle, workerOutcome } from '../support/effects';
import { submission } from '../support/fixtures';

const calendar = new WorkingCalendar(ref.calendars);
const procedure = ref.procedures.find((p) => p.code === '2.000488')!;
const agency = ref.agencies.find((a) => a.id === 'QN-STP')!;
const settings = { supplementRule: 'restart' as const, classOneProvinces: [] };
const START = parseInstant('2026-03-02T09:00:00+07:00');

const actors: Record<string, EventCommand['actor']> = {
  portal: { role: 'portal', id: 'portal' },
  agency: { role: 'agency', id: 'desk', agencyId: 'QN-STP' },
  courier: { role: 'courier', id: 'c', courierId: 'HL-BT01' },
  clerk: { role: 'clerk', id: 'clerk' },
};
const recipient = { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' as const };


function start(overrides = {}, at = START): DossierState {
  const ctx = { now: at, calendar };
  const r = register({ submission: submission({ procedureCode: procedure.code, agencyId: agency.id, submittedAt: formatInstant(at), ...overrides }), procedure, agency, tariff: ref.tariff, settings }, ctx);
  return settle(r.state, r.effects, ctx);
}

const eventArb: fc.Arbitrary<[string, DossierEvent]> = fc.oneof(
  fc.constant(['courier', { type: 'courier.picked_up' }] as [string, DossierEvent]),
  fc.constant(['courier', { type: 'courier.pickup_failed', reason: 'not home' }] as [string, DossierEvent]),
  fc.constant(['agency', { type: 'agency.received' }] as [string, DossierEvent]),
  fc.constant(['agency', { type: 'agency.supplement_requested', reason: 'r', items: ['x'] }] as [string, DossierEvent]),
  fc.constant(['portal', { type: 'citizen.supplement_provided' }] as [string, DossierEvent]),
  fc.constant(['agency', { type: 'agency.apologized', newDueDate: '2026-06-30', reason: 'busy' }] as [string, DossierEvent]),
  fc.constant(['agency', { type: 'agency.completed', outcome: 'approved' }] as [string, DossierEvent]),
  fc.constant(['courier', { type: 'courier.delivery_attempted', outcome: 'failed', reason: 'not_home' }] as [string, DossierEvent]),
  fc.constant(['courier', { type: 'courier.delivery_attempted', outcome: 'delivered', recipient }] as [string, DossierEvent]),
  fc.constant(['clerk', { type: 'counter.collected', recipient }] as [string, DossierEvent]),
  fc.constant(['portal', { type: 'citizen.redelivery_requested' }] as [string, DossierEvent]),
  fc.constant(['portal', { type: 'citizen.withdrawn', reason: 'no longer needed' }] as [string, DossierEvent]),
);

const stepArb = fc.record({ event: eventArb, hours: fc.integer({ min: 0, max: 60 }) });

describe('the lifecycle under random event sequences', () => {
  test('terminal stays terminal, the balance never goes negative, one apology at most, every open deadline has an alarm, refusals change nothing', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
        let s = start();
        let now = START;
        for (const { event, hours } of steps) {
          now += hours * 3600_000;
          const ctx = { now, calendar };
          const ticked = tick(s, ctx);
          s = settle(ticked.state, ticked.effects, ctx);
          const before = s;
          const wasTerminal = TERMINAL_STATUSES.has(s.status);
          const d = decide(s, { event: event[1], actor: actors[event[0]]! }, ctx);
          if (!d.ok) {
            expect(s).toBe(before);
            expect([400, 403, 404, 409, 422]).toContain(d.refusal.status);
            continue;
          }
          expect(wasTerminal).toBe(false);
          s = settle(d.state, d.effects, ctx);
          const fees = feesView(s);
          expect(fees.paidVnd).toBeGreaterThanOrEqual(0);
          expect(fees.dueVnd).toBeGreaterThanOrEqual(0);
          expect(s.timeline.filter((t) => t.type === 'agency.apologized').length).toBeLessThanOrEqual(1);
          const open = s.deadlines.filter((x) => x.state === 'open' && !x.pausedAt);
          if (open.length) {
            const alarm = nextAlarmAt(s, calendar);
            expect(alarm).not.toBeNull();
            expect(alarm!).toBeLessThanOrEqual(Math.min(...open.map((x) => parseInstant(x.dueAt))));
          }
          if (TERMINAL_STATUSES.has(s.status)) expect(s.deadlines.every((x) => x.completedAt !== null)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  // The read model keeps a projection until a higher version comes (a version-guarded replace):
  // a view that changed at the same version would stay stale there for good (issue #13's check).
  test('no transition changes the view without changing the version, effect outcomes (a capture answered twice) included', () => {
    const seen = new Map<number, string>();
    const step = (prev: DossierState, next: DossierState): DossierState => {
      const view = JSON.stringify(toView(next));
      if (next.version === prev.version) expect(view).toBe(JSON.stringify(toView(prev)));
      const known = seen.get(next.version);
      if (known !== undefined) expect(view).toBe(known);
      seen.set(next.version, view);
      return next;
    };
    const play = (s: DossierState, effects: Parameters<typeof settle>[1], ctx: Parameters<typeof settle>[2]): DossierState => {
      const queue = [...effects];
      while (queue.length) {
        const e = queue.shift()!;
        const outcome = workerOutcome(s, e);
        if (!outcome) continue;
        const r = applySystem(s, outcome, ctx);
        s = step(s, r.state);
        queue.push(...r.effects);
        // A retried capture's answer reported again changes nothing.
        if (outcome.type === 'system.payment_captured') s = step(s, applySystem(s, outcome, ctx).state);
      }
      return s;
    };
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), fc.boolean(), (steps, prepaid) => {
        seen.clear();
        const ctx0 = { now: START, calendar };
        const r = register({ submission: submission({ procedureCode: procedure.code, agencyId: agency.id, submittedAt: formatInstant(START), ...(prepaid ? {} : { payment: { method: 'cash' } }) }), procedure, agency, tariff: ref.tariff, settings }, ctx0);
        let s = play(step(r.state, r.state), r.effects, ctx0);
        let now = START;
        for (const { event, hours } of steps) {
          now += hours * 3600_000;
          const ctx = { now, calendar };
          const ticked = tick(s, ctx);
          s = play(step(s, ticked.state), ticked.effects, ctx);
          const d = decide(s, { event: event[1], actor: actors[event[0]]! }, ctx);
          if (d.ok) s = play(step(s, d.state), d.effects, ctx);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('the version grows with every accepted event and tick that changed something', () => {
    let s = start();
    const v0 = s.version;
    const d = decide(s, { event: { type: 'courier.picked_up' }, actor: actors.courier! }, { now: START + 3600_000, calendar });
    expect(d.ok).toBe(true);
    if (d.ok) s = d.state;
    expect(s.version).toBeGreaterThan(v0);
    const quiet = tick(s, { now: START + 2 * 3600_000, calendar });
    expect(quiet.state).toBe(s);
  });
});

describe('refusals (status codes the API passes on)', () => {
  const picked = () => {
    const s = start();
    const d = decide(s, { event: { type: 'courier.picked_up' }, actor: actors.courier! }, { now: START + 3600_000, calendar });
    if (!d.ok) throw new Error('pickup refused');
    return d.state;
  };

  test('wrong role 403, another agency 404, wrong status 409', () => {
    const s = picked();
    const ctx = { now: START + 7200_000, calendar };
    expect(decide(s, { event: { type: 'agency.received' }, actor: actors.portal! }, ctx)).toMatchObject({ ok: false, refusal: { status: 403 } });
    expect(decide(s, { event: { type: 'agency.received' }, actor: { role: 'agency', id: 'x', agencyId: 'HL-TNMT' } }, ctx)).toMatchObject({
      ok: false,
      refusal: { status: 404 },
    });
    expect(decide(s, { event: { type: 'agency.completed', outcome: 'approved' }, actor: actors.agency! }, ctx)).toMatchObject({
      ok: false,
      refusal: { status: 409, type: 'invalid-transition' },
    });
  });

  test('occurredAt: more than 5 minutes ahead, or before the previous event, is 400', () => {
    const s = picked();
    const now = START + 7200_000;
    expect(decide(s, { event: { type: 'agency.received' }, actor: actors.agency!, occurredAt: formatInstant(now + 6 * 60_000) }, { now, calendar })).toMatchObject({
      ok: false,
      refusal: { status: 400, errors: [{ path: 'occurredAt' }] },
    });
    expect(decide(s, { event: { type: 'agency.received' }, actor: actors.agency!, occurredAt: formatInstant(START) }, { now, calendar })).toMatchObject({
      ok: false,
      refusal: { status: 400 },
    });
    expect(decide(s, { event: { type: 'agency.received' }, actor: actors.agency!, occurredAt: formatInstant(now + 4 * 60_000) }, { now, calendar }).ok).toBe(true);
  });

  test('a courier that is not assigned the job gets 404', () => {
    const s = start();
    const other = { role: 'courier' as const, id: 'o', courierId: 'HL-BT02' };
    expect(decide(s, { event: { type: 'courier.picked_up' }, actor: other }, { now: START + 60_000, calendar })).toMatchObject({ ok: false, refusal: { status: 404 } });
  });
});

describe('deadlines from the brief', () => {
  test('received Monday 5 Jan 2026 10:00 with 3 working days is due 9 Jan 00:00; at 16:00 it is due 10 Jan 00:00', () => {
    const three = { ...procedure, processingDays: 3 };
    for (const [receivedAt, due] of [
      ['2026-01-05T10:00:00+07:00', '2026-01-09T00:00:00+07:00'],
      ['2026-01-05T16:00:00+07:00', '2026-01-10T00:00:00+07:00'],
    ] as const) {
      const at = parseInstant('2026-01-05T08:00:00+07:00');
      const ctx = { now: at, calendar };
      const r = register(
        { submission: submission({ agencyId: agency.id, services: { collect: false, deliver: true }, pickupAddress: undefined, delivery: { method: 'counter' }, submittedAt: formatInstant(at) }), procedure: three, agency, tariff: ref.tariff, settings },
        ctx,
      );
      const s = settle(r.state, r.effects, ctx);
      const d = decide(s, { event: { type: 'agency.received' }, actor: actors.agency!, occurredAt: receivedAt }, { now: parseInstant(receivedAt), calendar });
      expect(d.ok).toBe(true);
      if (d.ok) expect(d.state.deadlines.find((x) => x.stage === 'processing')!.dueAt).toBe(due);
    }
  });
});
