/**
 * The lifecycle rules of 2 (issue 12, docs/DECISIONS.md "Lifecycle rules 2"), each
 * case played on the pure lifecycle against the 2026 calendar as announced, with
 * what the manager (deadlines, violations, compliance) and the citizen (status,
 * next due, invitations) see, and the same case under rules 1 where it differs.
 * Hand-computed calendar: 1-4 Jan 2026 off, Sat 10 Jan worked.
 */
import fc from 'fast-check';
import { WorkingCalendar, formatInstant, parseInstant } from '../../domain/calendar';
import type { DossierSettings, DossierState, DossierView } from '../../domain/dossier';
import type { DossierEvent, EventCommand } from '../../domain/events';
import { decide, nextAlarmAt, register, tick, toView, type Context } from '../../domain/lifecycle';
import type { Submission } from '../../domain/types';
import * as ref from '../../reference-data';
import { summarize, type SummaryRecord } from '../../store/tally';
import { settle } from '../support/effects';
import { HA_LONG_HOME, submission } from '../support/fixtures';

const calendar = new WorkingCalendar(ref.calendars);
const actors: Record<string, EventCommand['actor']> = {
  portal: { role: 'portal', id: 'portal' },
  agency: { role: 'agency', id: 'desk', agencyId: 'HL-UBND' },
  courier: { role: 'courier', id: 'c', courierId: 'HL-BT01' },
  clerk: { role: 'clerk', id: 'clerk' },
};
const SELF = { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' as const };
const t = (local: string) => `2026-01-${local}:00+07:00`; // t('05T10:00') = 2026-01-05T10:00:00+07:00
const ms = (local: string) => parseInstant(t(local));


/** A dossier driven by hand: the clock moves only forward, timers fire on the way. */
class Dossier {
  state: DossierState;
  now: number;
  constructor(rules: 1 | 2, opts: { procedureCode?: string; supplementRule?: DossierSettings['supplementRule']; sub?: Partial<Submission>; at?: string } = {}) {
    const procedure = ref.procedures.find((p) => p.code === (opts.procedureCode ?? '2.000720'))!;
    const agency = ref.agencies.find((a) => a.id === 'HL-UBND')!;
    this.now = ms(opts.at ?? '05T09:15');
    const settings: DossierSettings = { supplementRule: opts.supplementRule ?? 'restart', classOneProvinces: [], ...(rules === 2 ? { rules: 2 as const } : {}) };
    const sub = submission({
      procedureCode: procedure.code,
      agencyId: agency.id,
      services: { collect: false, deliver: true },
      pickupAddress: undefined,
      delivery: { method: 'home', address: HA_LONG_HOME },
      payment: { method: 'prepaid', reference: 'PAY-E' },
      submittedAt: formatInstant(this.now),
      ...opts.sub,
    });
    const r = register({ submission: sub, procedure, agency, tariff: ref.tariff, settings }, this.ctx());
    this.state = settle(r.state, r.effects, this.ctx());
  }
  ctx(): Context {
    return { now: this.now, calendar };
  }
  /** Moves the clock to `local`, firing every alarm on the way as the workflow's timers would. */
  advance(local: string | number): this {
    const target = typeof local === 'number' ? local : ms(local);
    for (;;) {
      const alarm = nextAlarmAt(this.state, calendar);
      if (alarm === null || alarm > target) break;
      this.now = Math.max(this.now, alarm);
      const r = tick(this.state, this.ctx());
      this.state = settle(r.state, r.effects, this.ctx());
    }
    this.now = Math.max(this.now, target);
    return this;
  }
  /** Reports an event at `local` (the clock moves there), optionally dated `occurredAt`. */
  try(local: string | number, role: string, event: DossierEvent, occurredAt?: string) {
    this.advance(local);
    return decide(this.state, { event, actor: actors[role]!, ...(occurredAt ? { occurredAt } : {}) }, this.ctx());
  }
  do(local: string, role: string, event: DossierEvent, occurredAt?: string): this {
    const d = this.try(local, role, event, occurredAt);
    if (!d.ok) throw new Error(`${event.type} refused: ${d.refusal.detail}`);
    this.state = settle(d.state, d.effects, this.ctx());
    return this;
  }
  view(): DossierView {
    return toView(this.state);
  }
  processing() {
    return this.view().deadlines.find((d) => d.stage === 'processing')!;
  }
  /** The dossier's deadline records as the compliance figures read them (store/read-model.ts). */
  records(): SummaryRecord[] {
    const v = this.view();
    return v.deadlines.map((d) => {
      const day = formatInstant(parseInstant(d.dueAt) - 1).slice(0, 10);
      return {
        state: d.state,
        agencyId: v.agencyId,
        procedureCode: v.procedureCode,
        stage: d.stage,
        owner: d.owner,
        district: 'Hạ Long',
        dueDay: day,
        dueMonth: day.slice(0, 7),
        completedAt: d.completedAt ? new Date(parseInstant(d.completedAt)) : null,
        multipleSupplementRequests: v.multipleSupplementRequests,
        indexDueAt: d.indexDueAt ? new Date(parseInstant(d.indexDueAt)) : null,
      };
    });
  }
  /** The processing row of the compliance summary grouped by due day. */
  processingFigures() {
    return summarize(
      this.records().filter((r) => r.stage === 'processing'),
      'day',
    ).rows;
  }
}

const received = (rules: 1 | 2, opts: ConstructorParameters<typeof Dossier>[1] = {}) =>
  new Dossier(rules, opts).do('05T10:00', 'agency', { type: 'agency.received' });
const supplementRequested: DossierEvent = { type: 'agency.supplement_requested', reason: 'thiếu bản sao', items: ['CCCD'] };
const supplementProvided: DossierEvent = { type: 'citizen.supplement_provided' };
const approved: DossierEvent = { type: 'agency.completed', outcome: 'approved' };

describe('1. a breach once happened is never erased', () => {
  // 2.000720, 3 working days: received Mon 5 Jan 10:00, due end of Thu 8 Jan (2026-01-09T00:00+07:00).
  const play = (rules: 1 | 2) =>
    received(rules)
      .advance('09T00:30')
      .do('12T09:00', 'agency', supplementRequested) // 6 working days after receipt (Sat 10 is worked)
      .do('12T15:00', 'portal', supplementProvided)
      .do('13T10:00', 'agency', approved);

  test('rules 2: a late supplement after the due leaves the record met_late on its original day', () => {
    const d = play(2);
    expect(d.processing()).toMatchObject({ state: 'met_late', dueAt: t('09T00:00'), startedAt: t('05T10:00'), completedAt: t('13T10:00') });
    expect(d.view().supplementRequests.items[0]).toMatchObject({ withinWindow: false, providedAt: t('12T15:00') });
    // Compliance, by hand: one processing record due on 8 Jan, late: 0 % on time.
    expect(d.processingFigures()).toEqual([expect.objectContaining({ key: '2026-01-08', total: 1, metOnTime: 0, metLate: 1, overdue: 0, onTimeRate: 0 })]);
  });

  test('rules 2: still overdue (and reminded) between the supplement and the result', () => {
    const d = received(2).advance('09T00:30').do('12T09:00', 'agency', supplementRequested).do('12T15:00', 'portal', supplementProvided);
    expect(d.processing()).toMatchObject({ state: 'overdue', dueAt: t('09T00:00') });
    expect(d.view().nextDueAt).toBe(t('09T00:00'));
    d.advance('14T09:00');
    expect(d.state.timeline.filter((e) => e.type === 'deadline.reminder').map((e) => e.occurredAt)).toEqual([t('10T08:00'), t('12T08:00'), t('13T08:00'), t('14T08:00')]);
  });

  test('rules 1 (dossiers already running) keep what they did: the restart erases it', () => {
    const d = play(1);
    // Provided at 15:00: J = Tue 13, due end of Fri 16.
    expect(d.processing()).toMatchObject({ state: 'met_on_time', dueAt: t('17T00:00') });
    expect(d.processingFigures()).toEqual([expect.objectContaining({ key: '2026-01-16', metOnTime: 1, metLate: 0 })]);
  });
});

describe('2. a supplement request outside the 3-working-day window buys no time', () => {
  // 1.001234-like 10 working days with 2.000488 (10 days): received Mon 5 Jan 10:00 →
  // Tue 6 … Fri 9, Sat 10 (worked), Mon 12 … Fri 16: due 2026-01-17T00:00+07:00.
  for (const supplementRule of ['restart', 'pause'] as const) {
    test(`rules 2, ${supplementRule}: the due stays, the agency's violation shows and counts`, () => {
      const d = received(2, { procedureCode: '2.000488', supplementRule }).do('14T09:00', 'agency', supplementRequested); // 8 working days
      expect(d.view().status).toBe('awaiting_supplement');
      expect(d.processing()).toMatchObject({ state: 'open', dueAt: t('17T00:00') });
      // The clock still runs: the citizen is told the same due.
      expect(d.view().nextDueAt).toBe(t('17T00:00'));
      expect(d.view().agencyViolations).toEqual([
        { rule: 'supplement_request_late', at: t('14T09:00'), stage: 'processing', detail: expect.stringContaining('8 working days') },
      ]);
      d.do('15T10:00', 'portal', supplementProvided);
      expect(d.processing()).toMatchObject({ state: 'open', dueAt: t('17T00:00'), startedAt: t('05T10:00'), supplementWorkingDays: 0 });
      // Not decided by the due: overdue at 00:00 Sat 17 Jan, late when completed Monday.
      d.do('19T09:00', 'agency', approved);
      expect(d.processing()).toMatchObject({ state: 'met_late', dueAt: t('17T00:00') });
      expect(d.processingFigures()).toEqual([expect.objectContaining({ key: '2026-01-16', metLate: 1, onTimeRate: 0 })]);
      expect(d.records()[0]).toBeDefined();
    });
  }

  test('rules 2: a request within the window still restarts the clock (Decree 61 Art. 19.4)', () => {
    const d = received(2, { procedureCode: '2.000488' }).do('07T09:00', 'agency', supplementRequested).do('09T10:00', 'portal', supplementProvided);
    // J = Fri 9; Sat 10, Mon 12 … Fri 16, Mon 19 … Thu 22: due 2026-01-23T00:00.
    expect(d.processing()).toMatchObject({ state: 'open', dueAt: t('23T00:00'), startedAt: t('09T10:00') });
    expect(d.view().agencyViolations).toEqual([]);
  });

  test('rules 1: the late request restarted the clock', () => {
    const d = received(1, { procedureCode: '2.000488' }).do('14T09:00', 'agency', supplementRequested).do('15T10:00', 'portal', supplementProvided);
    expect(parseInstant(d.processing().dueAt)).toBeGreaterThan(ms('17T00:00'));
    expect(d.view().agencyViolations).toEqual([]);
  });
});

describe('3. a supplement after the due never moves an overdue record', () => {
  // 2.000635, 1 working day: received Mon 5 Jan 10:00, due 2026-01-07T00:00; a request on Wed 7
  // is within the window (2 working days) but after the breach.
  for (const supplementRule of ['pause', 'restart'] as const) {
    test(`rules 2, ${supplementRule}: the due and its compliance day stay`, () => {
      const d = received(2, { procedureCode: '2.000635', supplementRule }).advance('07T00:30');
      expect(d.processing().state).toBe('overdue');
      d.do('07T09:00', 'agency', supplementRequested).do('09T10:00', 'portal', supplementProvided);
      expect(d.processing()).toMatchObject({ state: 'overdue', dueAt: t('07T00:00'), startedAt: t('05T10:00') });
      d.do('09T11:00', 'agency', approved);
      expect(d.processing()).toMatchObject({ state: 'met_late', dueAt: t('07T00:00') });
      expect(d.processingFigures()).toEqual([expect.objectContaining({ key: '2026-01-06', metLate: 1 })]);
    });
  }

  test('rules 1, pause: the due moved to another compliance day', () => {
    const d = received(1, { procedureCode: '2.000635', supplementRule: 'pause' })
      .advance('07T00:30')
      .do('07T09:00', 'agency', supplementRequested)
      .do('09T10:00', 'portal', supplementProvided);
    expect(d.processing().dueAt).not.toBe(t('07T00:00'));
  });
});

describe('4. an apology the restart overtakes is void', () => {
  // 3 working days: due 2026-01-09T00:00. Apology on Wed 7 for Tue 13 (revised 2026-01-14T00:00),
  // then a request within the window; provided Mon 12 10:00: J = 12, due end of Thu 15.
  const play = (rules: 1 | 2) =>
    received(rules)
      .do('07T09:00', 'agency', { type: 'agency.apologized', newDueDate: '2026-01-13', reason: 'cần xác minh' })
      .do('07T10:00', 'agency', supplementRequested)
      .do('12T10:00', 'portal', supplementProvided);

  test('rules 2: the revised due is dropped, the view and the timers show the new due, a new apology is allowed', () => {
    const d = play(2);
    expect(d.processing()).toMatchObject({ state: 'open', dueAt: t('16T00:00'), revisedDueAt: null });
    expect(d.view().apology).toMatchObject({ revisedDueAt: t('14T00:00'), voidedAt: t('12T10:00') });
    expect(d.view().nextDueAt).toBe(t('16T00:00'));
    // The next alarm is the at-risk flag one working day before, then the due itself.
    expect(nextAlarmAt(d.state, calendar)).toBe(ms('15T00:00'));
    d.advance('16T00:30');
    expect(d.processing().state).toBe('overdue');
    expect(d.view().nextDueAt).toBe(t('16T00:00'));
    d.do('16T09:00', 'agency', { type: 'agency.apologized', newDueDate: '2026-01-20', reason: 'chờ ý kiến' });
    expect(d.processing()).toMatchObject({ state: 'overdue', dueAt: t('16T00:00'), revisedDueAt: t('21T00:00') });
    expect(d.view().apology).toMatchObject({ revisedDueAt: t('21T00:00') });
    expect(d.view().apology!.voidedAt).toBeUndefined();
    expect(d.try('16T10:00', 'agency', { type: 'agency.apologized', newDueDate: '2026-01-22', reason: 'again' })).toMatchObject({
      ok: false,
      refusal: { status: 409, type: 'apology-already-made' },
    });
  });

  test('rules 1: the stale revised due stays and a new apology is refused', () => {
    const d = play(1);
    expect(d.processing()).toMatchObject({ dueAt: t('16T00:00'), revisedDueAt: t('14T00:00') });
    expect(d.view().nextDueAt).toBe(t('14T00:00'));
  });
});

describe('5. an event may not predate the workflow’s own events', () => {
  test('rules 2: a counter collection dated before the counter notice is refused', () => {
    // The agency reports at 15:00 a result released at 09:00; the notice goes out at 15:00.
    const d = received(2, { sub: { delivery: { method: 'counter' } } }).do('06T15:00', 'agency', approved, t('06T09:00'));
    expect(d.view().status).toBe('held_at_post_office');
    const early = d.try('06T15:30', 'clerk', { type: 'counter.collected', recipient: SELF }, t('06T10:00'));
    expect(early).toMatchObject({ ok: false, refusal: { status: 400, errors: [{ path: 'occurredAt' }] } });
    expect(d.try('06T15:30', 'clerk', { type: 'counter.collected', recipient: SELF }, t('06T15:10')).ok).toBe(true);
  });

  test('rules 2: a pickup dated before its courier job was created is refused', () => {
    // Submitted at 08:00, registered (and the job created) at 09:15.
    const sub = { services: { collect: true, deliver: true }, pickupAddress: HA_LONG_HOME, submittedAt: t('05T08:00') };
    const d = new Dossier(2, { sub, at: '05T09:15' });
    expect(d.view().status).toBe('awaiting_pickup');
    expect(d.try('05T11:00', 'courier', { type: 'courier.picked_up' }, t('05T09:00'))).toMatchObject({ ok: false, refusal: { status: 400 } });
    expect(d.try('05T11:00', 'courier', { type: 'courier.picked_up' }, t('05T09:20')).ok).toBe(true);
    expect(new Dossier(1, { sub, at: '05T09:15' }).try('05T11:00', 'courier', { type: 'courier.picked_up' }, t('05T09:00')).ok).toBe(true);
  });

  test('rules 2: a deadline timer does not bound it: an event reported late is still judged by when it happened', () => {
    const d = received(2).advance('09T00:30');
    expect(d.processing().state).toBe('overdue');
    d.do('09T09:00', 'agency', approved, t('08T16:00'));
    expect(d.processing()).toMatchObject({ state: 'met_on_time', completedAt: t('08T16:00') });
  });

  test('rules 1: the counter collection before the notice was accepted', () => {
    const d = received(1, { sub: { delivery: { method: 'counter' } } }).do('06T15:00', 'agency', approved, t('06T09:00'));
    expect(d.try('06T15:30', 'clerk', { type: 'counter.collected', recipient: SELF }, t('06T10:00')).ok).toBe(true);
  });
});

describe('6. a delivery failure reported late', () => {
  // Result released Tue 6; the courier failed Wed 7 10:00 and reports it Tue 20 10:00.
  const play = (rules: 1 | 2) =>
    received(rules)
      .do('06T09:00', 'agency', approved)
      .do('20T10:00', 'courier', { type: 'courier.delivery_attempted', outcome: 'failed', reason: 'not_home' }, t('07T10:00'));

  test('rules 2: invitations from the report, two working days apart, then the return', () => {
    const d = play(2);
    expect(d.view().attempts[0]).toMatchObject({ occurredAt: t('07T10:00'), outcome: 'failed' });
    // Delivery is judged by the attempt: J = Tue 6, 1 working day, due 2026-01-08T00:00: on time.
    expect(d.view().deadlines.find((x) => x.stage === 'delivery')).toMatchObject({ state: 'met_on_time', completedAt: t('07T10:00') });
    expect(d.view().invitations).toEqual({ sentAt: [t('20T10:00')], nextAt: t('22T08:00'), returnAt: t('27T00:00') });
    d.advance('22T09:00');
    expect(d.view()).toMatchObject({ status: 'held_at_post_office', invitations: { sentAt: [t('20T10:00'), t('22T08:00')] } });
    d.advance('27T00:30');
    expect(d.view().status).toBe('returned_to_agency');
    const returned = d.state.timeline.find((e) => e.type === 'result.returned_to_agency')!;
    expect(returned.occurredAt).toBe(t('27T00:00'));
  });

  test('rules 1: everything fires at once when reported', () => {
    const d = play(1).advance('20T10:00');
    d.advance('20T10:01');
    expect(d.view().status).toBe('returned_to_agency');
  });
});

describe('8. an overdue dossier shows what is due, overdue included', () => {
  test('rules 2: nextDueAt is the earliest open due, overdue or not', () => {
    const d = received(2).advance('09T00:30');
    expect(d.processing().state).toBe('overdue');
    expect(d.view().nextDueAt).toBe(t('09T00:00'));
    d.do('09T09:00', 'agency', approved);
    // Delivery opened (J = Fri 9, 1 working day: Sat 10 is worked): nothing is overdue any more.
    expect(d.view().nextDueAt).toBe(t('11T00:00'));
  });

  test('rules 1: null while overdue', () => {
    expect(received(1).advance('09T00:30').view().nextDueAt).toBeNull();
  });
});

describe('rules 2 under random event sequences', () => {
  const eventArb = fc.oneof(
    fc.constant<[string, DossierEvent]>(['agency', { type: 'agency.received' }]),
    fc.constant<[string, DossierEvent]>(['agency', supplementRequested]),
    fc.constant<[string, DossierEvent]>(['portal', supplementProvided]),
    fc.constant<[string, DossierEvent]>(['agency', { type: 'agency.apologized', newDueDate: '2026-02-10', reason: 'busy' }]),
    fc.constant<[string, DossierEvent]>(['agency', { type: 'agency.apologized', newDueDate: '2026-01-13', reason: 'busy' }]),
    fc.constant<[string, DossierEvent]>(['agency', approved]),
    fc.constant<[string, DossierEvent]>(['courier', { type: 'courier.delivery_attempted', outcome: 'failed', reason: 'not_home' }]),
    fc.constant<[string, DossierEvent]>(['clerk', { type: 'counter.collected', recipient: SELF }]),
  );
  test('a record once overdue keeps its due and start and never ends on time; the view’s next due has a timer; a revised due is never before the due', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('restart' as const, 'pause' as const),
        fc.constantFrom('2.000720', '2.000635', '2.000488'),
        fc.array(fc.record({ event: eventArb, hours: fc.integer({ min: 0, max: 50 }) }), { minLength: 1, maxLength: 20 }),
        (supplementRule, procedureCode, steps) => {
          const d = new Dossier(2, { supplementRule, procedureCode });
          const breached = new Map<string, { dueAt: string; startedAt: string }>();
          for (const { event, hours } of steps) {
            const r = d.try(d.now + hours * 3600_000, event[0], event[1]);
            if (r.ok) d.state = settle(r.state, r.effects, d.ctx());
            const v = d.view();
            for (const x of v.deadlines) {
              const was = breached.get(x.stage);
              if (was) {
                expect({ dueAt: x.dueAt, startedAt: x.startedAt }).toEqual(was);
                expect(['overdue', 'met_late']).toContain(x.state);
              } else if (x.state === 'overdue') {
                breached.set(x.stage, { dueAt: x.dueAt, startedAt: x.startedAt });
              }
              if (x.state === 'open' && x.revisedDueAt) expect(parseInstant(x.revisedDueAt)).toBeGreaterThan(parseInstant(x.dueAt));
            }
            if (v.nextDueAt && parseInstant(v.nextDueAt) > d.now && !['delivered', 'collected', 'returned_to_agency'].includes(v.status)) {
              expect(nextAlarmAt(d.state, calendar)).not.toBeNull();
              expect(nextAlarmAt(d.state, calendar)!).toBeLessThanOrEqual(parseInstant(v.nextDueAt));
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
