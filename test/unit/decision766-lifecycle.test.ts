/**
 * Decision 766's index due in the pure lifecycle: from the lodging plus the
 * working days spent waiting for supplements, under either supplement rule.
 */
import { WorkingCalendar, parseInstant } from '../../domain/calendar';
import type { DossierSettings, DossierState } from '../../domain/dossier';
import type { DossierEvent, EventCommand } from '../../domain/events';
import { decide, deadline, register, tick, toView } from '../../domain/lifecycle';
import * as ref from '../../reference-data';
import { HA_LONG_HOME, submission } from '../support/fixtures';

const calendar = new WorkingCalendar(ref.calendars);
// 2.000720: 3 working days, at HL-UBND. March 2026 has no holiday; Mon 2 Mar is J.
const procedure = ref.procedures.find((p) => p.code === '2.000720')!;
const agency = ref.agencies.find((a) => a.id === 'HL-UBND')!;
const desk: EventCommand['actor'] = { role: 'agency', id: 'desk', agencyId: 'HL-UBND' };
const portal: EventCommand['actor'] = { role: 'portal', id: 'portal' };
const on = (day: number, time = '10:00') => `2026-03-${String(day).padStart(2, '0')}T${time}:00+07:00`;
const endOf = (day: number) => `2026-03-${String(day + 1).padStart(2, '0')}T00:00:00+07:00`;

function lodged(rule: DossierSettings['supplementRule'], cal = calendar): DossierState {
  const settings = { supplementRule: rule, classOneProvinces: [] };
  const sub = submission({
    procedureCode: procedure.code,
    agencyId: agency.id,
    services: { collect: false, deliver: true },
    pickupAddress: undefined,
    delivery: { method: 'home', address: HA_LONG_HOME },
    submittedAt: on(2, '08:00'),
  });
  const r = register({ submission: sub, procedure, agency, tariff: ref.tariff, settings }, { now: parseInstant(on(2, '08:00')), calendar: cal });
  return play(r.state, [[desk, on(2), { type: 'agency.received' }]], cal);
}

function play(state: DossierState, steps: [EventCommand['actor'], string, DossierEvent][], cal = calendar): DossierState {
  return steps.reduce((s, [actor, occurredAt, event]) => {
    const d = decide(s, { actor, event, occurredAt }, { now: parseInstant(occurredAt), calendar: cal });
    if (!d.ok) throw new Error(`${event.type} refused: ${d.refusal.detail}`);
    return d.state;
  }, state);
}

const REQUEST: DossierEvent = { type: 'agency.supplement_requested', reason: 'Thiếu giấy tờ', items: ['Bản sao CCCD'] };
const PROVIDED: DossierEvent = { type: 'citizen.supplement_provided' };
const processing = (s: DossierState) => deadline(s, 'processing')!;

describe('indexDueAt', () => {
  test('without a supplement it is the due itself; the post stages have none', () => {
    const s = lodged('restart');
    // Received Mon 2 Mar 10:00: Tue, Wed, Thu.
    expect(processing(s)).toMatchObject({ dueAt: endOf(5), indexDueAt: endOf(5) });
    expect(deadline(s, 'handoff')!.indexDueAt).toBeNull();
    const view = toView(s);
    expect(view.deadlines.find((d) => d.stage === 'processing')!.indexDueAt).toBe(endOf(5));
    expect(view.deadlines.find((d) => d.stage === 'handoff')!.indexDueAt).toBeNull();
  });

  test('restart: the due restarts from the supplement, the index due counts from the lodging plus the wait', () => {
    // Requested Tue 3, provided Fri 6: Wed, Thu, Fri waited.
    const s = play(lodged('restart'), [
      [desk, on(3), REQUEST],
      [portal, on(6), PROVIDED],
    ]);
    // Restart from Fri 6: Mon 9, Tue 10, Wed 11. Index: 3 + 3 from Mon 2: Tue 3 ... Tue 10.
    expect(processing(s)).toMatchObject({ startedAt: on(6), dueAt: endOf(11), supplementWorkingDays: 3, indexDueAt: endOf(10) });
  });

  test('the index due under restart is the due the pause rule gives', () => {
    const steps: [EventCommand['actor'], string, DossierEvent][] = [
      [desk, on(3), REQUEST],
      [portal, on(6), PROVIDED],
    ];
    const paused = play(lodged('pause'), steps);
    expect(processing(paused)).toMatchObject({ startedAt: on(2), dueAt: endOf(10), indexDueAt: endOf(10) });
    expect(processing(play(lodged('restart'), steps)).indexDueAt).toBe(processing(paused).dueAt);
  });

  test('two supplements: the waits add up from the lodging, not from the first restart', () => {
    // Tue 3 → Wed 4 (1 day), then Mon 9 → Wed 11 (Tue, Wed: 2 days).
    const steps: [EventCommand['actor'], string, DossierEvent][] = [
      [desk, on(3), REQUEST],
      [portal, on(4), PROVIDED],
      [desk, on(9), REQUEST],
      [portal, on(11), PROVIDED],
    ];
    const restarted = play(lodged('restart'), steps);
    // Restart from Wed 11: Thu 12, Fri 13, Mon 16. Index: 3 + 3 from Mon 2: Tue 3 ... Fri 6, Mon 9, Tue 10.
    expect(processing(restarted)).toMatchObject({ startedAt: on(11), dueAt: endOf(16), supplementWorkingDays: 3, indexDueAt: endOf(10) });
    expect(toView(restarted).multipleSupplementRequests).toBe(true);
    expect(processing(play(lodged('pause'), steps))).toMatchObject({ dueAt: endOf(10), indexDueAt: endOf(10) });
  });

  test('an apology moves neither the due nor the index due', () => {
    const s = play(lodged('restart'), [[desk, on(4), { type: 'agency.apologized', newDueDate: '2026-03-10', reason: 'Cần xác minh' }]]);
    expect(processing(s)).toMatchObject({ dueAt: endOf(5), indexDueAt: endOf(5), revisedDueAt: endOf(10) });
  });

  test('a calendar change that reschedules the due recomputes the index due with it', () => {
    const s = play(lodged('restart'), [
      [desk, on(3), REQUEST],
      [portal, on(6), PROVIDED],
    ]);
    // Tue 10 Mar becomes a day off: restart Mon 9, Wed 11, Thu 12; index Tue 3 ... Fri 6, Mon 9, Wed 11.
    const withHoliday = new WorkingCalendar(ref.calendars.map((y) => (y.year === 2026 ? { ...y, holidays: [...y.holidays, '2026-03-10'] } : y)));
    const ticked = tick(s, { now: parseInstant(on(9, '12:00')), calendar: withHoliday });
    expect(processing(ticked.state)).toMatchObject({ dueAt: endOf(12), indexDueAt: endOf(11) });
  });

  test('a calendar change inside the index span only does not make a tick commit (no new workflow commands)', () => {
    const s = play(lodged('restart'), [
      [desk, on(3), REQUEST],
      [portal, on(6), PROVIDED],
    ]);
    // Thu 5 Mar lies before the restart: the due does not move, so the tick is a no-op and the index due stays.
    const withHoliday = new WorkingCalendar(ref.calendars.map((y) => (y.year === 2026 ? { ...y, holidays: [...y.holidays, '2026-03-05'] } : y)));
    const ticked = tick(s, { now: parseInstant(on(9, '12:00')), calendar: withHoliday });
    expect(ticked.state).toBe(s);
    expect(ticked.effects).toEqual([]);
  });
});
