import { dueDay, formatInstant, parseInstant } from '../../domain/calendar';
import type { DeadlineDoc } from '../../store/read-model';
import { System } from '../support/system';

let sys: System;
const NOW = Date.now();
const HOUR = 3600_000;

/** A DeadlineDoc shaped as `writeProjection` writes it. */
function deadline(code: string, over: Omit<Partial<DeadlineDoc>, 'dueAt' | 'startedAt'> & { dueAt: string; startedAt?: string }): DeadlineDoc {
  const { dueAt, startedAt, ...rest } = over;
  const day = dueDay(dueAt);
  return {
    _id: `${code}:${rest.stage ?? 'processing'}`,
    dossierCode: code,
    version: 3,
    stage: 'processing',
    owner: 'agency',
    agencyId: 'HL-TNMT',
    procedureCode: '1.001234',
    district: 'Hạ Long',
    startedAt: new Date(parseInstant(startedAt ?? '2026-01-05T10:00:00+07:00')),
    dueAt: new Date(parseInstant(dueAt)),
    dueDay: day,
    dueMonth: day.slice(0, 7),
    revisedDueAt: null,
    completedAt: null,
    state: 'open',
    atRisk: false,
    supplementWorkingDays: 0,
    multipleSupplementRequests: false,
    dossierStatus: 'processing',
    ...rest,
  };
}

const A = deadline('CA-A', { state: 'met_on_time', dueAt: '2026-01-09T00:00:00+07:00', completedAt: new Date(parseInstant('2026-01-08T16:00:00+07:00')) });
const B = deadline('CA-B', { stage: 'handoff', owner: 'post', state: 'met_late', dueAt: '2026-01-08T10:00:00+07:00', startedAt: '2026-01-06T09:00:00+07:00' });
const C = deadline('CA-C', { agencyId: 'QN-STP', procedureCode: '2.000488', district: 'Cẩm Phả', state: 'overdue', dueAt: '2026-01-09T12:00:00+07:00' });
const D = deadline('CA-D', { stage: 'delivery', owner: 'post', agencyId: 'QN-STP', procedureCode: '2.000488', district: 'Cẩm Phả', dueAt: '2026-01-10T00:00:00+07:00' });
const E = deadline('CA-E', { stage: 'pickup', owner: 'post', state: 'met_on_time', dueAt: '2026-02-03T00:00:00+07:00', startedAt: '2026-02-02T08:00:00+07:00' });
const F = deadline('CA-F', { agencyId: 'HL-UBND', procedureCode: '2.000720', state: 'overdue', dueAt: '2026-01-07T00:00:00+07:00', startedAt: '2026-01-02T11:00:00+07:00' });
// Around now, for the at-risk window.
const G = deadline('CA-G', { dueAt: formatInstant(NOW + 2 * HOUR), startedAt: formatInstant(NOW - 48 * HOUR) });
const H = deadline('CA-H', { stage: 'delivery', owner: 'post', dueAt: formatInstant(NOW + 30 * HOUR), startedAt: formatInstant(NOW - HOUR) });
const I = deadline('CA-I', { dueAt: formatInstant(NOW - HOUR), startedAt: formatInstant(NOW - 72 * HOUR) });
const J = deadline('CA-J', { state: 'met_on_time', dueAt: formatInstant(NOW + HOUR), startedAt: formatInstant(NOW - 24 * HOUR) });

beforeAll(async () => {
  sys = await System.start('compliance');
  await sys.db.collection<DeadlineDoc>('deadlines').insertMany([A, B, C, D, E, F, G, H, I, J]);
});
afterAll(async () => {
  await sys?.stop();
});

const manager = () => sys.token('manager');
const get = (path: string, token: string | undefined = manager(), headers?: Record<string, string>) => sys.request('GET', path, { token, headers });
const counts = (total: number, metOnTime: number, metLate: number, open: number, overdue: number, onTimeRate: number | null) => ({
  total,
  metOnTime,
  metLate,
  open,
  overdue,
  onTimeRate,
});
const summary = (query: string) => get(`/v1/compliance/summary?${query}`);
const JAN_FEB = 'from=2026-01-01&to=2026-02-28';

/** RFC 4180 parser, enough for the answers here. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && s[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}

describe('GET /v1/compliance/summary', () => {
  test('groups by agency by default, with totals and the echoed query', async () => {
    const res = await summary(JAN_FEB);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: '2026-01-01',
      to: '2026-02-28',
      groupBy: 'agency',
      filters: {},
      rows: [
        { key: 'HL-TNMT', ...counts(3, 2, 1, 0, 0, 2 / 3) },
        { key: 'HL-UBND', ...counts(1, 0, 0, 0, 1, 0) },
        { key: 'QN-STP', ...counts(2, 0, 0, 1, 1, 0) },
      ],
      totals: counts(6, 2, 1, 1, 2, 2 / 5),
    });
  });

  test('every groupBy', async () => {
    const rows = async (groupBy: string) => {
      const res = await summary(`${JAN_FEB}&groupBy=${groupBy}`);
      expect(res.status).toBe(200);
      expect(res.body.groupBy).toBe(groupBy);
      expect(res.body.totals).toEqual(counts(6, 2, 1, 1, 2, 2 / 5));
      return res.body.rows;
    };
    expect(await rows('agency')).toEqual([
      { key: 'HL-TNMT', ...counts(3, 2, 1, 0, 0, 2 / 3) },
      { key: 'HL-UBND', ...counts(1, 0, 0, 0, 1, 0) },
      { key: 'QN-STP', ...counts(2, 0, 0, 1, 1, 0) },
    ]);
    expect(await rows('procedure')).toEqual([
      { key: '1.001234', ...counts(3, 2, 1, 0, 0, 2 / 3) },
      { key: '2.000488', ...counts(2, 0, 0, 1, 1, 0) },
      { key: '2.000720', ...counts(1, 0, 0, 0, 1, 0) },
    ]);
    expect(await rows('stage')).toEqual([
      { key: 'delivery', ...counts(1, 0, 0, 1, 0, null) },
      { key: 'handoff', ...counts(1, 0, 1, 0, 0, 0) },
      { key: 'pickup', ...counts(1, 1, 0, 0, 0, 1) },
      { key: 'processing', ...counts(3, 1, 0, 0, 2, 1 / 3) },
    ]);
    expect(await rows('owner')).toEqual([
      { key: 'agency', ...counts(3, 1, 0, 0, 2, 1 / 3) },
      { key: 'post', ...counts(3, 1, 1, 1, 0, 1 / 2) },
    ]);
    expect(await rows('district')).toEqual([
      { key: 'Cẩm Phả', ...counts(2, 0, 0, 1, 1, 0) },
      { key: 'Hạ Long', ...counts(4, 2, 1, 0, 1, 2 / 4) },
    ]);
    expect(await rows('day')).toEqual([
      { key: '2026-01-06', ...counts(1, 0, 0, 0, 1, 0) },
      { key: '2026-01-08', ...counts(2, 1, 1, 0, 0, 1 / 2) },
      { key: '2026-01-09', ...counts(2, 0, 0, 1, 1, 0) },
      { key: '2026-02-02', ...counts(1, 1, 0, 0, 0, 1) },
    ]);
    expect(await rows('month')).toEqual([
      { key: '2026-01', ...counts(5, 1, 1, 1, 2, 1 / 4) },
      { key: '2026-02', ...counts(1, 1, 0, 0, 0, 1) },
    ]);
  });

  test('the window is inclusive local dates; a 00:00 due belongs to the day before', async () => {
    // A is due 2026-01-09T00:00+07:00: a due of 8 January.
    const jan8 = await summary('from=2026-01-08&to=2026-01-08&groupBy=day');
    expect(jan8.body.rows).toEqual([{ key: '2026-01-08', ...counts(2, 1, 1, 0, 0, 1 / 2) }]);
    const jan9 = await summary('from=2026-01-09&to=2026-01-09&groupBy=day');
    // C (12:00 on the 9th) and D (00:00 on the 10th), not A.
    expect(jan9.body.rows).toEqual([{ key: '2026-01-09', ...counts(2, 0, 0, 1, 1, 0) }]);
    const fromJan9 = await summary('from=2026-01-09&to=2026-02-02&groupBy=stage&agencyId=HL-TNMT');
    expect(fromJan9.body.rows).toEqual([{ key: 'pickup', ...counts(1, 1, 0, 0, 0, 1) }]);
    // E is due 2026-02-03T00:00+07:00: in a window ending on 2 February, not in one starting on the 3rd.
    expect((await summary('from=2026-02-03&to=2026-02-28')).body).toMatchObject({ rows: [], totals: counts(0, 0, 0, 0, 0, null) });
  });

  test('filters by stage, agency and procedure, echoed back', async () => {
    const byStage = await summary(`${JAN_FEB}&stage=processing`);
    expect(byStage.body).toMatchObject({
      filters: { stage: 'processing' },
      rows: [
        { key: 'HL-TNMT', ...counts(1, 1, 0, 0, 0, 1) },
        { key: 'HL-UBND', ...counts(1, 0, 0, 0, 1, 0) },
        { key: 'QN-STP', ...counts(1, 0, 0, 0, 1, 0) },
      ],
      totals: counts(3, 1, 0, 0, 2, 1 / 3),
    });
    const byAgency = await summary(`${JAN_FEB}&agencyId=QN-STP&groupBy=stage`);
    expect(byAgency.body).toMatchObject({
      filters: { agencyId: 'QN-STP' },
      rows: [
        { key: 'delivery', ...counts(1, 0, 0, 1, 0, null) },
        { key: 'processing', ...counts(1, 0, 0, 0, 1, 0) },
      ],
    });
    const all = await summary(`${JAN_FEB}&procedureCode=1.001234&agencyId=HL-TNMT&stage=handoff&groupBy=owner`);
    expect(all.body).toEqual({
      from: '2026-01-01',
      to: '2026-02-28',
      groupBy: 'owner',
      filters: { stage: 'handoff', agencyId: 'HL-TNMT', procedureCode: '1.001234' },
      rows: [{ key: 'post', ...counts(1, 0, 1, 0, 0, 0) }],
      totals: counts(1, 0, 1, 0, 0, 0),
    });
    expect((await summary(`${JAN_FEB}&agencyId=NOPE`)).body).toMatchObject({ rows: [], totals: counts(0, 0, 0, 0, 0, null) });
  });

  test('CSV by ?format=csv or Accept: text/csv, parsing back to the JSON answer', async () => {
    for (const groupBy of ['agency', 'district', 'stage', 'day']) {
      const json = await summary(`${JAN_FEB}&groupBy=${groupBy}`);
      const viaFormat = await summary(`${JAN_FEB}&groupBy=${groupBy}&format=csv`);
      const viaAccept = await get(`/v1/compliance/summary?${JAN_FEB}&groupBy=${groupBy}`, manager(), { accept: 'text/csv' });
      for (const res of [viaFormat, viaAccept]) {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
        expect(res.headers.get('content-disposition')).toBe(`attachment; filename=compliance-2026-01-01-2026-02-28-${groupBy}.csv`);
        expect(res.body).toBe(viaFormat.body);
      }
      const [header, ...lines] = parseCsv(viaFormat.body as string);
      expect(header).toEqual([
        'Nhóm / Group',
        'Tổng / Total',
        'Đúng hạn / On time',
        'Trễ hạn / Late',
        'Đang xử lý / Open',
        'Quá hạn / Overdue',
        'Tỷ lệ đúng hạn / On-time rate',
      ]);
      const parsed = lines.map(([key, total, metOnTime, metLate, open, overdue, rate]) => ({
        key,
        ...counts(Number(total), Number(metOnTime), Number(metLate), Number(open), Number(overdue), rate === '' ? null : Number(rate)),
      }));
      const totals = parsed.pop()!;
      expect(totals.key).toBe('Tổng cộng / Totals');
      expect(parsed).toEqual(json.body.rows);
      const { key: _key, ...totalCounts } = totals;
      expect(totalCounts).toEqual(json.body.totals);
    }
    // JSON stays the default for a browser-like Accept.
    const browser = await get(`/v1/compliance/summary?${JAN_FEB}`, manager(), { accept: 'text/html,application/json;q=0.9,*/*;q=0.8' });
    expect(browser.headers.get('content-type')).toMatch(/^application\/json/);
  });

  test('from and to are required dates with from <= to; bad parameters are 400 naming the field', async () => {
    const bad = async (query: string, paths: string[]) => {
      const res = await summary(query);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: '/problems/validation', status: 400 });
      expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(paths);
    };
    await bad('', ['from', 'to']);
    await bad('from=2026-01-01', ['to']);
    await bad('from=2026-02-30&to=2026-03-01', ['from']);
    await bad('from=01/01/2026&to=2026-13-01', ['from', 'to']);
    await bad('from=2026-01-09&to=2026-01-08', ['to']);
    await bad(`${JAN_FEB}&groupBy=nope`, ['groupBy']);
    await bad(`${JAN_FEB}&stage=nope`, ['stage']);
    await bad(`${JAN_FEB}&format=pdf`, ['format']);
    await bad('from=2026-01-01&from=2026-01-02&to=2026-01-03', ['from']);
  });
});

const item = (d: DeadlineDoc) => ({
  dossierCode: d.dossierCode,
  stage: d.stage,
  owner: d.owner,
  agencyId: d.agencyId,
  procedureCode: d.procedureCode,
  dueAt: formatInstant(d.dueAt.getTime()),
  revisedDueAt: null,
  startedAt: formatInstant(d.startedAt.getTime()),
  state: d.state,
  links: { dossier: `/v1/dossiers/${d.dossierCode}` },
});

describe('GET /v1/compliance/overdue', () => {
  test('overdue deadlines, oldest due first, with links', async () => {
    const res = await get('/v1/compliance/overdue');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ limit: 100, items: [item(F), item(C)] });
    expect(res.body.items[0]).toMatchObject({ dueAt: '2026-01-07T00:00:00+07:00', startedAt: '2026-01-02T11:00:00+07:00', links: { dossier: '/v1/dossiers/CA-F' } });
  });

  test('filters and limit', async () => {
    expect((await get('/v1/compliance/overdue?agencyId=QN-STP')).body.items).toEqual([item(C)]);
    expect((await get('/v1/compliance/overdue?stage=processing&agencyId=HL-UBND')).body.items).toEqual([item(F)]);
    expect((await get('/v1/compliance/overdue?stage=delivery')).body.items).toEqual([]);
    expect((await get('/v1/compliance/overdue?limit=1')).body).toEqual({ limit: 1, items: [item(F)] });
    expect((await get('/v1/compliance/overdue?limit=500')).body.items).toHaveLength(2);
    for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=1.5', 'limit=-1', 'stage=nope']) {
      const res = await get(`/v1/compliance/overdue?${q}`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: q.split('=')[0] })]);
    }
  });
});

describe('GET /v1/compliance/at-risk', () => {
  test('open deadlines due within the window (default 24 h), soonest first', async () => {
    const res = await get('/v1/compliance/at-risk');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ withinHours: 24, items: [item(G)] });
    expect(res.body.items).toHaveLength(1);
    expect(Date.parse(res.body.until) - Date.parse(res.body.from)).toBe(24 * HOUR);
    expect((await get('/v1/compliance/at-risk?withinHours=48')).body.items).toEqual([item(G), item(H)]);
    // The past-due open one (I) and the met one (J) are never listed.
    expect((await get('/v1/compliance/at-risk?withinHours=720')).body.items).toEqual([item(G), item(H)]);
    expect((await get('/v1/compliance/at-risk?withinHours=1')).body.items).toEqual([]);
  });

  test('withinHours is 1-720', async () => {
    for (const q of ['0', '721', 'x', '2.5']) {
      const res = await get(`/v1/compliance/at-risk?withinHours=${q}`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: 'withinHours' })]);
    }
  });
});

describe('access', () => {
  const paths = ['/v1/compliance/summary?from=2026-01-01&to=2026-01-31', '/v1/compliance/overdue', '/v1/compliance/at-risk'];

  test('401 without a token, 403 for portal, agency, courier and clerk; manager and admin allowed', async () => {
    for (const path of paths) {
      expect((await sys.request('GET', path)).status).toBe(401);
      expect((await get(path, 'not-a-jwt')).status).toBe(401);
      for (const token of [sys.token('portal'), sys.token('agency', { agencyId: 'HL-TNMT' }), sys.token('courier', { courierId: 'HL-BT01' }), sys.token('clerk')]) {
        const res = await get(path, token);
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ type: '/problems/forbidden', status: 403 });
      }
      expect((await get(path, sys.token('admin'))).status).toBe(200);
      expect((await get(path, sys.token('manager'))).status).toBe(200);
    }
  });
});
