import { decision766Outcome, GROUP_BYS, summarize, type SummaryRecord } from '../../store/compliance';
import { countsPathFor, monthsBetween } from '../../store/compliance-counts';
import { counts, idx, NONE_RESOLVED } from '../support/compliance-figures';

const at = (s: string) => new Date(s);
/** The committed due of the processing records below, unless a record says otherwise. */
const DUE = at('2026-01-09T00:00:00+07:00');

const rec = (over: Partial<SummaryRecord>): SummaryRecord => {
  const state = over.state ?? 'open';
  const stage = over.stage ?? 'processing';
  return {
    state,
    agencyId: 'HL-TNMT',
    procedureCode: '1.001234',
    stage,
    owner: 'agency',
    district: 'Hạ Long',
    dueDay: '2026-01-08',
    dueMonth: '2026-01',
    // As the lifecycle closes them: on time before the due, late after it.
    completedAt: state === 'met_on_time' ? at('2026-01-08T16:00:00+07:00') : state === 'met_late' ? at('2026-01-09T10:00:00+07:00') : null,
    multipleSupplementRequests: false,
    indexDueAt: stage === 'processing' ? DUE : null,
    ...over,
  };
};

// Hand-built: 7 records over 2 agencies, 3 procedures, 3 stages, 2 owners, 2 districts, 3 days, 2 months.
const records: SummaryRecord[] = [
  rec({ state: 'met_on_time' }),
  rec({ state: 'met_on_time', stage: 'handoff', owner: 'post', dueDay: '2026-01-07' }),
  rec({ state: 'met_late', procedureCode: '2.000488' }),
  rec({ state: 'overdue', agencyId: 'QN-STP', procedureCode: '2.000488', district: 'Cẩm Phả' }),
  rec({ state: 'open', agencyId: 'QN-STP', stage: 'delivery', owner: 'post', district: 'Cẩm Phả', dueDay: '2026-02-02', dueMonth: '2026-02' }),
  rec({ state: 'open', agencyId: 'QN-STP', procedureCode: '2.000720', dueDay: '2026-02-02', dueMonth: '2026-02' }),
  rec({ state: 'met_late', agencyId: 'QN-STP', stage: 'handoff', owner: 'post', dueDay: '2026-01-07' }),
];

describe('summarize', () => {
  it('counts each state; onTimeRate = on time / (on time + late + overdue), open excluded', () => {
    expect(summarize(records).totals).toEqual(counts(7, 2, 2, 2, 1, 2 / 5, idx(2, 1, 1, 1 / 2)));
  });

  it('an empty input and a group of only open records have onTimeRate null', () => {
    expect(summarize([])).toEqual({ rows: [], totals: counts(0, 0, 0, 0, 0, null, null) });
    const onlyOpen = summarize([rec({}), rec({})], 'stage');
    expect(onlyOpen.rows).toEqual([{ key: 'processing', ...counts(2, 0, 0, 2, 0, null, NONE_RESOLVED) }]);
    expect(onlyOpen.totals.onTimeRate).toBeNull();
  });

  it('overdue counts against the rate; all late gives 0, not null', () => {
    expect(summarize([rec({ state: 'overdue' })]).totals).toEqual(counts(1, 0, 0, 0, 1, 0, NONE_RESOLVED));
    expect(summarize([rec({ state: 'met_late' }), rec({ state: 'open' })]).totals).toEqual(counts(2, 0, 1, 1, 0, 0, idx(1, 0, 1, 0)));
    expect(summarize([rec({ state: 'met_on_time' }), rec({ state: 'open' })]).totals).toEqual(counts(2, 1, 0, 1, 0, 1, idx(1, 1, 0, 1)));
  });

  it('groups by agency by default', () => {
    expect(summarize(records).rows).toEqual([
      { key: 'HL-TNMT', ...counts(3, 2, 1, 0, 0, 2 / 3, idx(2, 1, 1, 1 / 2)) },
      { key: 'QN-STP', ...counts(4, 0, 1, 2, 1, 0, NONE_RESOLVED) },
    ]);
    expect(summarize(records, 'agency')).toEqual(summarize(records));
  });

  it('groups by procedure', () => {
    expect(summarize(records, 'procedure').rows).toEqual([
      { key: '1.001234', ...counts(4, 2, 1, 1, 0, 2 / 3, idx(1, 1, 0, 1)) },
      { key: '2.000488', ...counts(2, 0, 1, 0, 1, 0, idx(1, 0, 1, 0)) },
      { key: '2.000720', ...counts(1, 0, 0, 1, 0, null, NONE_RESOLVED) },
    ]);
  });

  it('groups by stage', () => {
    expect(summarize(records, 'stage').rows).toEqual([
      { key: 'delivery', ...counts(1, 0, 0, 1, 0, null) },
      { key: 'handoff', ...counts(2, 1, 1, 0, 0, 1 / 2) },
      { key: 'processing', ...counts(4, 1, 1, 1, 1, 1 / 3, idx(2, 1, 1, 1 / 2)) },
    ]);
  });

  it('groups by owner', () => {
    expect(summarize(records, 'owner').rows).toEqual([
      { key: 'agency', ...counts(4, 1, 1, 1, 1, 1 / 3, idx(2, 1, 1, 1 / 2)) },
      { key: 'post', ...counts(3, 1, 1, 1, 0, 1 / 2) },
    ]);
  });

  it('groups by district (sorted by code units: C before H)', () => {
    expect(summarize(records, 'district').rows).toEqual([
      { key: 'Cẩm Phả', ...counts(2, 0, 0, 1, 1, 0, NONE_RESOLVED) },
      { key: 'Hạ Long', ...counts(5, 2, 2, 1, 0, 1 / 2, idx(2, 1, 1, 1 / 2)) },
    ]);
  });

  it('groups by day', () => {
    expect(summarize(records, 'day').rows).toEqual([
      { key: '2026-01-07', ...counts(2, 1, 1, 0, 0, 1 / 2) },
      { key: '2026-01-08', ...counts(3, 1, 1, 0, 1, 1 / 3, idx(2, 1, 1, 1 / 2)) },
      { key: '2026-02-02', ...counts(2, 0, 0, 2, 0, null, NONE_RESOLVED) },
    ]);
  });

  it('groups by month', () => {
    expect(summarize(records, 'month').rows).toEqual([
      { key: '2026-01', ...counts(5, 2, 2, 0, 1, 2 / 5, idx(2, 1, 1, 1 / 2)) },
      { key: '2026-02', ...counts(2, 0, 0, 2, 0, null, NONE_RESOLVED) },
    ]);
  });

  it('for every groupBy, the rows add up to the totals', () => {
    for (const g of GROUP_BYS) {
      const s = summarize(records, g);
      const sum = (k: 'total' | 'metOnTime' | 'metLate' | 'open' | 'overdue') => s.rows.reduce((n, r) => n + r[k], 0);
      expect([sum('total'), sum('metOnTime'), sum('metLate'), sum('open'), sum('overdue')]).toEqual([7, 2, 2, 2, 1]);
      expect(s.totals).toEqual(summarize(records).totals);
    }
  });
});

describe('Decision 766 judgement', () => {
  // A processing deadline lodged Mon 2 Mar 2026 with 3 working days, a supplement waited 3 working days
  // (Wed-Fri) under `restart`: the legal due restarted (end of Wed 11 Mar), the index due is 6 working
  // days from the lodging (end of Tue 10 Mar).
  const restarted = { stage: 'processing' as const, indexDueAt: at('2026-03-11T00:00:00+07:00'), multipleSupplementRequests: false };

  it('on time up to and at the index due, late a millisecond after it', () => {
    expect(decision766Outcome({ ...restarted, completedAt: at('2026-03-10T16:00:00+07:00') })).toBe('on_time');
    expect(decision766Outcome({ ...restarted, completedAt: at('2026-03-11T00:00:00+07:00') })).toBe('on_time');
    expect(decision766Outcome({ ...restarted, completedAt: at('2026-03-11T00:00:00.001+07:00') })).toBe('late');
  });

  it('more than one supplement request is late whatever the dates', () => {
    expect(decision766Outcome({ ...restarted, multipleSupplementRequests: true, completedAt: at('2026-03-03T09:00:00+07:00') })).toBe('late');
  });

  it('not resolved while open or overdue (the index counts resolved dossiers only)', () => {
    expect(decision766Outcome({ ...restarted, completedAt: null })).toBe('unresolved');
    expect(decision766Outcome({ ...restarted, multipleSupplementRequests: true, completedAt: null })).toBe('unresolved');
  });

  it('an unknown index due leaves a resolved record unjudged, unless it had several requests', () => {
    const done = at('2026-03-10T16:00:00+07:00');
    expect(decision766Outcome({ ...restarted, indexDueAt: null, completedAt: done })).toBe('unjudged');
    expect(decision766Outcome({ stage: 'processing', multipleSupplementRequests: false, completedAt: done })).toBe('unjudged');
    expect(decision766Outcome({ ...restarted, indexDueAt: null, multipleSupplementRequests: true, completedAt: done })).toBe('late');
  });

  it("does not apply to the post's stages", () => {
    for (const stage of ['pickup', 'handoff', 'delivery'] as const) {
      expect(decision766Outcome({ stage, indexDueAt: null, multipleSupplementRequests: true, completedAt: at('2026-03-10T16:00:00+07:00') })).toBe('not_applicable');
    }
  });

  it('summarize: resolved = on time + late, unjudged apart, rate over resolved; the legal figures unchanged', () => {
    const march = (over: Partial<SummaryRecord>) => rec({ indexDueAt: restarted.indexDueAt, dueDay: '2026-03-11', dueMonth: '2026-03', ...over });
    const s = summarize(
      [
        // Legally on time against the restarted due, late for the index.
        march({ state: 'met_on_time', completedAt: at('2026-03-11T10:00:00+07:00') }),
        // On time for both.
        march({ state: 'met_on_time', completedAt: at('2026-03-10T16:00:00+07:00') }),
        // Two requests: legally on time, late for the index.
        march({ state: 'met_on_time', completedAt: at('2026-03-09T10:00:00+07:00'), multipleSupplementRequests: true }),
        // Withdrawn before the index due: stopped counts as resolved.
        march({ state: 'met_on_time', completedAt: at('2026-03-04T10:00:00+07:00'), agencyId: 'QN-STP' }),
        // Projected before the field existed, with a supplement.
        march({ state: 'met_on_time', completedAt: at('2026-03-10T16:00:00+07:00'), indexDueAt: undefined, agencyId: 'QN-STP' }),
        // Overdue: against the legal rate, not in the index.
        march({ state: 'overdue', completedAt: null, agencyId: 'QN-STP' }),
        march({ state: 'met_on_time', stage: 'handoff', owner: 'post', indexDueAt: null, agencyId: 'CP-UBND' }),
      ],
      'agency',
    );
    expect(s.rows).toEqual([
      { key: 'CP-UBND', ...counts(1, 1, 0, 0, 0, 1, null) },
      { key: 'HL-TNMT', ...counts(3, 3, 0, 0, 0, 1, idx(3, 1, 2, 1 / 3)) },
      { key: 'QN-STP', ...counts(3, 2, 0, 0, 1, 2 / 3, idx(1, 1, 0, 1, 1)) },
    ]);
    expect(s.totals).toEqual(counts(7, 6, 0, 0, 1, 6 / 7, idx(4, 2, 2, 1 / 2, 1)));
  });
});

describe('the counts: which months and which table a window reads', () => {
  test('months between two days, across a year end', () => {
    expect(monthsBetween('2025-11-30', '2026-02-01')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthsBetween('2026-03-15', '2026-03-15')).toEqual(['2026-03']);
  });

  test('a whole month by any dimension reads the month table; most of one, the month less the other days; a few days, those days', () => {
    const march = { from: '2026-03-01', to: '2026-03-31' };
    expect(countsPathFor({ ...march, groupBy: 'agency' }, '2026-03')).toBe('month');
    expect(countsPathFor({ ...march, groupBy: 'district', stage: 'processing' }, '2026-03')).toBe('month');
    expect(countsPathFor({ from: '2026-03-02', to: '2026-03-31', groupBy: 'agency' }, '2026-03')).toBe('month-less-days');
    // 16 of 31 days is most of the month; 15 is not.
    expect(countsPathFor({ from: '2026-03-16', to: '2026-04-30', groupBy: 'agency' }, '2026-03')).toBe('month-less-days');
    expect(countsPathFor({ from: '2026-03-17', to: '2026-04-30', groupBy: 'agency' }, '2026-03')).toBe('days');
    // February 2028 has 29 days.
    expect(countsPathFor({ from: '2028-02-01', to: '2028-02-28', groupBy: 'procedure' }, '2028-02')).toBe('month-less-days');
    expect(countsPathFor({ from: '2028-02-01', to: '2028-02-29', groupBy: 'procedure' }, '2028-02')).toBe('month');
    // The middle month of a longer window is whole, its edges are not.
    const q = { from: '2026-02-20', to: '2026-04-10', groupBy: 'agency' as const };
    expect(['2026-02', '2026-03', '2026-04'].map((m) => countsPathFor(q, m))).toEqual(['days', 'month', 'days']);
  });

  test('by day, stage, owner or month with at most a stage filter reads day × stage × owner; by day with an agency, the per-day table', () => {
    const march = { from: '2026-03-01', to: '2026-03-31' };
    for (const groupBy of ['day', 'stage', 'owner', 'month'] as const) {
      expect(countsPathFor({ ...march, groupBy }, '2026-03')).toBe('byday');
      expect(countsPathFor({ from: '2026-03-05', to: '2026-03-09', groupBy, stage: 'delivery' }, '2026-03')).toBe('byday');
    }
    expect(countsPathFor({ ...march, groupBy: 'day', agencyId: 'HL-UBND' }, '2026-03')).toBe('days');
    expect(countsPathFor({ ...march, groupBy: 'stage', procedureCode: '2.000720' }, '2026-03')).toBe('month');
  });
});
