import { summaryCsv } from '../../api/routes/compliance';
import { GROUP_BYS, summarize, type SummaryRecord } from '../../store/compliance';

const rec = (over: Partial<SummaryRecord>): SummaryRecord => ({
  state: 'open',
  agencyId: 'HL-TNMT',
  procedureCode: '1.001234',
  stage: 'processing',
  owner: 'agency',
  district: 'Hạ Long',
  dueDay: '2026-01-08',
  dueMonth: '2026-01',
  ...over,
});

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

const counts = (total: number, metOnTime: number, metLate: number, open: number, overdue: number, onTimeRate: number | null) => ({
  total,
  metOnTime,
  metLate,
  open,
  overdue,
  onTimeRate,
});

describe('summarize', () => {
  it('counts each state; onTimeRate = on time / (on time + late + overdue), open excluded', () => {
    expect(summarize(records).totals).toEqual(counts(7, 2, 2, 2, 1, 2 / 5));
  });

  it('an empty input and a group of only open records have onTimeRate null', () => {
    expect(summarize([])).toEqual({ rows: [], totals: counts(0, 0, 0, 0, 0, null) });
    const onlyOpen = summarize([rec({}), rec({})], 'stage');
    expect(onlyOpen.rows).toEqual([{ key: 'processing', ...counts(2, 0, 0, 2, 0, null) }]);
    expect(onlyOpen.totals.onTimeRate).toBeNull();
  });

  it('overdue counts against the rate; all late gives 0, not null', () => {
    expect(summarize([rec({ state: 'overdue' })]).totals).toEqual(counts(1, 0, 0, 0, 1, 0));
    expect(summarize([rec({ state: 'met_late' }), rec({ state: 'open' })]).totals).toEqual(counts(2, 0, 1, 1, 0, 0));
    expect(summarize([rec({ state: 'met_on_time' }), rec({ state: 'open' })]).totals).toEqual(counts(2, 1, 0, 1, 0, 1));
  });

  it('groups by agency by default', () => {
    expect(summarize(records).rows).toEqual([
      { key: 'HL-TNMT', ...counts(3, 2, 1, 0, 0, 2 / 3) },
      { key: 'QN-STP', ...counts(4, 0, 1, 2, 1, 0) },
    ]);
    expect(summarize(records, 'agency')).toEqual(summarize(records));
  });

  it('groups by procedure', () => {
    expect(summarize(records, 'procedure').rows).toEqual([
      { key: '1.001234', ...counts(4, 2, 1, 1, 0, 2 / 3) },
      { key: '2.000488', ...counts(2, 0, 1, 0, 1, 0) },
      { key: '2.000720', ...counts(1, 0, 0, 1, 0, null) },
    ]);
  });

  it('groups by stage', () => {
    expect(summarize(records, 'stage').rows).toEqual([
      { key: 'delivery', ...counts(1, 0, 0, 1, 0, null) },
      { key: 'handoff', ...counts(2, 1, 1, 0, 0, 1 / 2) },
      { key: 'processing', ...counts(4, 1, 1, 1, 1, 1 / 3) },
    ]);
  });

  it('groups by owner', () => {
    expect(summarize(records, 'owner').rows).toEqual([
      { key: 'agency', ...counts(4, 1, 1, 1, 1, 1 / 3) },
      { key: 'post', ...counts(3, 1, 1, 1, 0, 1 / 2) },
    ]);
  });

  it('groups by district (sorted by code units: C before H)', () => {
    expect(summarize(records, 'district').rows).toEqual([
      { key: 'Cẩm Phả', ...counts(2, 0, 0, 1, 1, 0) },
      { key: 'Hạ Long', ...counts(5, 2, 2, 1, 0, 1 / 2) },
    ]);
  });

  it('groups by day', () => {
    expect(summarize(records, 'day').rows).toEqual([
      { key: '2026-01-07', ...counts(2, 1, 1, 0, 0, 1 / 2) },
      { key: '2026-01-08', ...counts(3, 1, 1, 0, 1, 1 / 3) },
      { key: '2026-02-02', ...counts(2, 0, 0, 2, 0, null) },
    ]);
  });

  it('groups by month', () => {
    expect(summarize(records, 'month').rows).toEqual([
      { key: '2026-01', ...counts(5, 2, 2, 0, 1, 2 / 5) },
      { key: '2026-02', ...counts(2, 0, 0, 2, 0, null) },
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

describe('summaryCsv', () => {
  it('has a bilingual header, quotes what needs quoting, leaves a null rate empty and neutralises formulas', () => {
    const csv = summaryCsv(
      summarize(
        [rec({ district: 'Hạ Long, "Bãi Cháy"', state: 'met_on_time' }), rec({ district: '=HYPERLINK("x")' })],
        'district',
      ),
    );
    expect(csv.split('\r\n')).toEqual([
      '\uFEFFNhóm / Group,Tổng / Total,Đúng hạn / On time,Trễ hạn / Late,Đang xử lý / Open,Quá hạn / Overdue,Tỷ lệ đúng hạn / On-time rate',
      `"'=HYPERLINK(""x"")",1,0,0,1,0,`,
      '"Hạ Long, ""Bãi Cháy""",1,1,0,0,0,1',
      'Tổng cộng / Totals,2,1,0,1,0,1',
      '',
    ]);
  });
});
