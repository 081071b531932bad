import { Workbook, type Worksheet } from 'exceljs';
import { formatInstant, parseInstant, WorkingCalendar } from '../../domain/calendar';
import type { DossierState, DossierView } from '../../domain/dossier';
import type { DossierEvent, EventCommand } from '../../domain/events';
import { decide, register, toView } from '../../domain/lifecycle';
import * as ref from '../../reference-data';
import { scanSummary, type GroupBy, type SummaryQuery } from '../../store/compliance';
import { countsReady } from '../../store/compliance-counts';
import { writeDeadline, writeProjection, type DeadlineDoc } from '../../store/read-model';
import { pollUntil } from '../support/poll';
import { HA_LONG_HOME, submission } from '../support/fixtures';
import { System } from '../support/system';
import { counts, deadlineDoc, EXPECTED_LIST_HEADER, EXPECTED_SUMMARY_HEADER, EXPECTED_TOTALS_LABEL, idx, NONE_RESOLVED } from '../support/compliance-figures';

let sys: System;
const NOW = Date.now();
const HOUR = 3600_000;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const instant = (s: string) => new Date(parseInstant(s));

// January and February 2026: the legal figures over every state and stage.
const A = deadlineDoc('CA-A', { state: 'met_on_time', dueAt: '2026-01-09T00:00:00+07:00', completedAt: instant('2026-01-08T16:00:00+07:00') });
const B = deadlineDoc('CA-B', { stage: 'handoff', owner: 'post', state: 'met_late', dueAt: '2026-01-08T10:00:00+07:00', startedAt: '2026-01-06T09:00:00+07:00' });
const C = deadlineDoc('CA-C', { agencyId: 'QN-STP', procedureCode: '2.000488', district: 'Cẩm Phả', state: 'overdue', dueAt: '2026-01-09T12:00:00+07:00' });
const D = deadlineDoc('CA-D', { stage: 'delivery', owner: 'post', agencyId: 'QN-STP', procedureCode: '2.000488', district: 'Cẩm Phả', dueAt: '2026-01-10T00:00:00+07:00' });
const E = deadlineDoc('CA-E', { stage: 'pickup', owner: 'post', state: 'met_on_time', dueAt: '2026-02-03T00:00:00+07:00', startedAt: '2026-02-02T08:00:00+07:00' });
const F = deadlineDoc('CA-F', { agencyId: 'HL-UBND', procedureCode: '2.000720', state: 'overdue', dueAt: '2026-01-07T00:00:00+07:00', startedAt: '2026-01-02T11:00:00+07:00' });
// Around now, for the at-risk window.
const G = deadlineDoc('CA-G', { dueAt: formatInstant(NOW + 2 * HOUR), startedAt: formatInstant(NOW - 48 * HOUR) });
const H = deadlineDoc('CA-H', { stage: 'delivery', owner: 'post', dueAt: formatInstant(NOW + 30 * HOUR), startedAt: formatInstant(NOW - HOUR) });
const I = deadlineDoc('CA-I', { dueAt: formatInstant(NOW - HOUR), startedAt: formatInstant(NOW - 72 * HOUR) });
const J = deadlineDoc('CA-J', { state: 'met_on_time', dueAt: formatInstant(NOW + HOUR), startedAt: formatInstant(NOW - 24 * HOUR) });

// March 2026: Decision 766 next to the legal figures. Seeded by hand:
// M1 overdue and M2 open (not resolved), M3 a post stage due at local midnight of 2 March (a due of
// 1 March), M4 withdrawn ("stopped", resolved) due at midnight of 1 April (a due of 31 March).
const M1 = deadlineDoc('CA-M1', { agencyId: 'QN-STP', procedureCode: '2.000488', district: 'Cẩm Phả', state: 'overdue', dueAt: '2026-03-10T12:00:00+07:00' });
const M2 = deadlineDoc('CA-M2', { agencyId: 'QN-STP', procedureCode: '2.000488', district: 'Cẩm Phả', dueAt: '2026-03-17T00:00:00+07:00' });
const M3 = deadlineDoc('CA-M3', { stage: 'handoff', owner: 'post', agencyId: 'QN-STP', district: 'Cẩm Phả', state: 'met_on_time', dueAt: '2026-03-02T00:00:00+07:00', completedAt: instant('2026-03-01T10:00:00+07:00') });
const M4 = deadlineDoc('CA-M4', { state: 'met_on_time', dueAt: '2026-04-01T00:00:00+07:00', completedAt: instant('2026-03-04T10:00:00+07:00'), dossierStatus: 'withdrawn' });

// The rest of March runs through the pure lifecycle under `restart` and is written by `writeProjection`:
// 2.000720 at HL-UBND, 3 working days, received Mon 2 March 10:00 (due end of Thu 5 March).
const calendar = new WorkingCalendar(ref.calendars);
const procedure = ref.procedures.find((p) => p.code === '2.000720')!;
const agency = ref.agencies.find((a) => a.id === 'HL-UBND')!;
const desk: EventCommand['actor'] = { role: 'agency', id: 'desk', agencyId: 'HL-UBND' };
const portal: EventCommand['actor'] = { role: 'portal', id: 'portal' };
const mar = (day: number, time = '10:00') => `2026-03-${String(day).padStart(2, '0')}T${time}:00+07:00`;
const REQUEST: DossierEvent = { type: 'agency.supplement_requested', reason: 'Thiếu giấy tờ', items: ['Bản sao CCCD'] };
const PROVIDED: DossierEvent = { type: 'citizen.supplement_provided' };
const DONE: DossierEvent = { type: 'agency.completed', outcome: 'approved' };
type Step = [EventCommand['actor'], string, DossierEvent];

function dossier(code: string, steps: Step[]): DossierView {
  const settings = { supplementRule: 'restart' as const, classOneProvinces: [] };
  const sub = submission({ code, procedureCode: procedure.code, agencyId: agency.id, services: { collect: false, deliver: true }, pickupAddress: undefined, delivery: { method: 'home', address: HA_LONG_HOME }, submittedAt: mar(2, '08:00') });
  let s: DossierState = register({ submission: sub, procedure, agency, tariff: ref.tariff, settings }, { now: parseInstant(mar(2, '08:00')), calendar }).state;
  for (const [actor, occurredAt, event] of [[desk, mar(2), { type: 'agency.received' }] as Step, ...steps]) {
    const d = decide(s, { actor, event, occurredAt }, { now: parseInstant(occurredAt), calendar });
    if (!d.ok) throw new Error(`${code}: ${event.type} refused: ${d.refusal.detail}`);
    s = d.state;
  }
  const view = toView(s);
  // Only the processing deadline: the post's stages are covered by the hand-seeded records.
  return { ...view, deadlines: view.deadlines.filter((d) => d.stage === 'processing') };
}

/** As a view written before `indexDueAt` existed. */
const legacyView = (v: DossierView): DossierView => ({ ...v, deadlines: v.deadlines.map(({ indexDueAt: _gone, ...d }) => d) });

// Supplement Tue 3 → Fri 6 (Wed, Thu, Fri waited): due restarted to the end of Wed 11, index due the end of Tue 10.
const SUPPLEMENTED: Step[] = [
  [desk, mar(3), REQUEST],
  [portal, mar(6), PROVIDED],
];
const VIEWS = {
  // On time for both.
  R1: dossier('CA-R1', [...SUPPLEMENTED, [desk, mar(10, '16:00'), DONE]]),
  // Legally on time (before the restarted due), late for the index.
  R2: dossier('CA-R2', [...SUPPLEMENTED, [desk, mar(11), DONE]]),
  // Two requests (Tue 3 → Wed 4, Thu 5 → Fri 6): due end of Wed 11, index due end of Mon 9; done Mon 9,
  // on time by both dates, late for the index.
  R3: dossier('CA-R3', [[desk, mar(3), REQUEST], [portal, mar(4), PROVIDED], [desk, mar(5), REQUEST], [portal, mar(6), PROVIDED], [desk, mar(9), DONE]]),
  // Apologised for Tue 10, done Mon 9: judged on the original due (end of Thu 5), late for both.
  R4: dossier('CA-R4', [[desk, mar(4), { type: 'agency.apologized', newDueDate: '2026-03-10', reason: 'Cần xác minh' }], [desk, mar(9), DONE]]),
  // A view from before the field, without a supplement: the index due is the due; done Thu 5, on time.
  L1: legacyView(dossier('CA-L1', [[desk, mar(5), DONE]])),
  // A view from before the field, with a supplement: the index due is unknown (unjudged); legally on time.
  L2: legacyView(dossier('CA-L2', [...SUPPLEMENTED, [desk, mar(11), DONE]])),
  // A record written before the field (it is removed after the projection), no supplement, done late.
  L3: dossier('CA-L3', [[desk, mar(9), DONE]]),
};

beforeAll(async () => {
  sys = await System.start('compliance');
  await sys.db.collection<DeadlineDoc>('deadlines').insertMany([A, B, C, D, E, F, G, H, I, J, M1, M2, M3, M4]);
  for (const view of Object.values(VIEWS)) await writeProjection(sys.db, view);
  await sys.db.collection<DeadlineDoc>('deadlines').updateOne({ _id: 'CA-L3:processing' }, { $unset: { indexDueAt: '' } });
  // The summary reads the counts from here on: they must hold what was just seeded.
  await sys.countsSettled();
});
afterAll(async () => {
  await sys?.stop();
});

const manager = () => sys.token('manager');
const get = (path: string, token: string | undefined = manager(), headers?: Record<string, string>) => sys.request('GET', path, { token, headers });
/** The answer as bytes (an XLSX), which `sys.request` would read as text. */
async function getBytes(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${sys.baseUrl}${path}`, { headers: { authorization: `Bearer ${manager()}`, ...headers } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
async function sheetOf(bytes: Buffer): Promise<Worksheet> {
  const wb = new Workbook();
  // exceljs types its input as an ArrayBuffer.
  await wb.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  expect(wb.worksheets).toHaveLength(1);
  return wb.worksheets[0]!;
}
/** Rows from the header (row 3) down, each cell's value or null. */
function sheetRows(ws: Worksheet): unknown[][] {
  const width = ws.getRow(3).cellCount;
  const rows: unknown[][] = [];
  for (let r = 3; r <= ws.rowCount; r++) rows.push(Array.from({ length: width }, (_, c) => ws.getRow(r).getCell(c + 1).value ?? null));
  return rows;
}

const summary = (query: string) => get(`/v1/compliance/summary?${query}`);
const JAN_FEB = 'from=2026-01-01&to=2026-02-28';
const MARCH = 'from=2026-03-01&to=2026-03-31';
const GROUP_BYS = ['agency', 'procedure', 'stage', 'owner', 'district', 'day', 'month'];

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
        { key: 'HL-TNMT', ...counts(3, 2, 1, 0, 0, 2 / 3, idx(1, 1, 0, 1)) },
        { key: 'HL-UBND', ...counts(1, 0, 0, 0, 1, 0, NONE_RESOLVED) },
        { key: 'QN-STP', ...counts(2, 0, 0, 1, 1, 0, NONE_RESOLVED) },
      ],
      totals: counts(6, 2, 1, 1, 2, 2 / 5, idx(1, 1, 0, 1)),
    });
  });

  test('every groupBy', async () => {
    const rows = async (groupBy: string) => {
      const res = await summary(`${JAN_FEB}&groupBy=${groupBy}`);
      expect(res.status).toBe(200);
      expect(res.body.groupBy).toBe(groupBy);
      expect(res.body.totals).toEqual(counts(6, 2, 1, 1, 2, 2 / 5, idx(1, 1, 0, 1)));
      return res.body.rows;
    };
    expect(await rows('agency')).toEqual([
      { key: 'HL-TNMT', ...counts(3, 2, 1, 0, 0, 2 / 3, idx(1, 1, 0, 1)) },
      { key: 'HL-UBND', ...counts(1, 0, 0, 0, 1, 0, NONE_RESOLVED) },
      { key: 'QN-STP', ...counts(2, 0, 0, 1, 1, 0, NONE_RESOLVED) },
    ]);
    expect(await rows('procedure')).toEqual([
      { key: '1.001234', ...counts(3, 2, 1, 0, 0, 2 / 3, idx(1, 1, 0, 1)) },
      { key: '2.000488', ...counts(2, 0, 0, 1, 1, 0, NONE_RESOLVED) },
      { key: '2.000720', ...counts(1, 0, 0, 0, 1, 0, NONE_RESOLVED) },
    ]);
    // The post's stages have no index: null, not zeros.
    expect(await rows('stage')).toEqual([
      { key: 'delivery', ...counts(1, 0, 0, 1, 0, null) },
      { key: 'handoff', ...counts(1, 0, 1, 0, 0, 0) },
      { key: 'pickup', ...counts(1, 1, 0, 0, 0, 1) },
      { key: 'processing', ...counts(3, 1, 0, 0, 2, 1 / 3, idx(1, 1, 0, 1)) },
    ]);
    expect(await rows('owner')).toEqual([
      { key: 'agency', ...counts(3, 1, 0, 0, 2, 1 / 3, idx(1, 1, 0, 1)) },
      { key: 'post', ...counts(3, 1, 1, 1, 0, 1 / 2) },
    ]);
    expect(await rows('district')).toEqual([
      { key: 'Cẩm Phả', ...counts(2, 0, 0, 1, 1, 0, NONE_RESOLVED) },
      { key: 'Hạ Long', ...counts(4, 2, 1, 0, 1, 2 / 4, idx(1, 1, 0, 1)) },
    ]);
    expect(await rows('day')).toEqual([
      { key: '2026-01-06', ...counts(1, 0, 0, 0, 1, 0, NONE_RESOLVED) },
      { key: '2026-01-08', ...counts(2, 1, 1, 0, 0, 1 / 2, idx(1, 1, 0, 1)) },
      { key: '2026-01-09', ...counts(2, 0, 0, 1, 1, 0, NONE_RESOLVED) },
      { key: '2026-02-02', ...counts(1, 1, 0, 0, 0, 1) },
    ]);
    expect(await rows('month')).toEqual([
      { key: '2026-01', ...counts(5, 1, 1, 1, 2, 1 / 4, idx(1, 1, 0, 1)) },
      { key: '2026-02', ...counts(1, 1, 0, 0, 0, 1) },
    ]);
  });

  test('the window is inclusive local dates; a 00:00 due belongs to the day before', async () => {
    // A is due 2026-01-09T00:00+07:00: a due of 8 January.
    const jan8 = await summary('from=2026-01-08&to=2026-01-08&groupBy=day');
    expect(jan8.body.rows).toEqual([{ key: '2026-01-08', ...counts(2, 1, 1, 0, 0, 1 / 2, idx(1, 1, 0, 1)) }]);
    const jan9 = await summary('from=2026-01-09&to=2026-01-09&groupBy=day');
    // C (12:00 on the 9th) and D (00:00 on the 10th), not A.
    expect(jan9.body.rows).toEqual([{ key: '2026-01-09', ...counts(2, 0, 0, 1, 1, 0, NONE_RESOLVED) }]);
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
        { key: 'HL-TNMT', ...counts(1, 1, 0, 0, 0, 1, idx(1, 1, 0, 1)) },
        { key: 'HL-UBND', ...counts(1, 0, 0, 0, 1, 0, NONE_RESOLVED) },
        { key: 'QN-STP', ...counts(1, 0, 0, 0, 1, 0, NONE_RESOLVED) },
      ],
      totals: counts(3, 1, 0, 0, 2, 1 / 3, idx(1, 1, 0, 1)),
    });
    const byAgency = await summary(`${JAN_FEB}&agencyId=QN-STP&groupBy=stage`);
    expect(byAgency.body).toMatchObject({
      filters: { agencyId: 'QN-STP' },
      rows: [
        { key: 'delivery', ...counts(1, 0, 0, 1, 0, null) },
        { key: 'processing', ...counts(1, 0, 0, 0, 1, 0, NONE_RESOLVED) },
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

describe('Decision 766 next to the legal figures (March 2026)', () => {
  const MARCH_TOTALS = counts(11, 7, 2, 1, 1, 7 / 10, idx(7, 3, 4, 3 / 7, 1));

  test('the projection carries the index due; a view or a record from before the field is handled', async () => {
    const doc = (code: string) => sys.db.collection<DeadlineDoc>('deadlines').findOne({ _id: `${code}:processing` });
    // Restart: legal due end of Wed 11 March, index due end of Tue 10 March.
    expect(await doc('CA-R2')).toMatchObject({ dueAt: instant('2026-03-12T00:00:00+07:00'), indexDueAt: instant('2026-03-11T00:00:00+07:00'), supplementWorkingDays: 3, state: 'met_on_time' });
    expect(await doc('CA-R3')).toMatchObject({ indexDueAt: instant('2026-03-10T00:00:00+07:00'), multipleSupplementRequests: true });
    expect(await doc('CA-R4')).toMatchObject({ dueAt: instant('2026-03-06T00:00:00+07:00'), indexDueAt: instant('2026-03-06T00:00:00+07:00'), revisedDueAt: instant('2026-03-11T00:00:00+07:00'), state: 'met_late' });
    expect(await doc('CA-L1')).toMatchObject({ indexDueAt: instant('2026-03-06T00:00:00+07:00') });
    expect(await doc('CA-L2')).toMatchObject({ indexDueAt: null, state: 'met_on_time' });
    expect(await doc('CA-L3')).not.toHaveProperty('indexDueAt');
  });

  test('every groupBy, hand-computed', async () => {
    const rows = async (groupBy: string) => {
      const res = await summary(`${MARCH}&groupBy=${groupBy}`);
      expect(res.status).toBe(200);
      expect(res.body.totals).toEqual(MARCH_TOTALS);
      return res.body.rows;
    };
    // HL-UBND: R1 on time for both; R2 (restart) and R3 (two requests) on time legally, late for the index;
    // R4 (apologised) and L3 (legacy record, no supplement) late for both; L1 (legacy view) on time; L2 unjudged.
    expect(await rows('agency')).toEqual([
      { key: 'HL-TNMT', ...counts(1, 1, 0, 0, 0, 1, idx(1, 1, 0, 1)) },
      { key: 'HL-UBND', ...counts(7, 5, 2, 0, 0, 5 / 7, idx(6, 2, 4, 2 / 6, 1)) },
      { key: 'QN-STP', ...counts(3, 1, 0, 1, 1, 1 / 2, NONE_RESOLVED) },
    ]);
    expect(await rows('procedure')).toEqual([
      { key: '1.001234', ...counts(2, 2, 0, 0, 0, 1, idx(1, 1, 0, 1)) },
      { key: '2.000488', ...counts(2, 0, 0, 1, 1, 0, NONE_RESOLVED) },
      { key: '2.000720', ...counts(7, 5, 2, 0, 0, 5 / 7, idx(6, 2, 4, 2 / 6, 1)) },
    ]);
    expect(await rows('stage')).toEqual([
      { key: 'handoff', ...counts(1, 1, 0, 0, 0, 1) },
      { key: 'processing', ...counts(10, 6, 2, 1, 1, 6 / 9, idx(7, 3, 4, 3 / 7, 1)) },
    ]);
    expect(await rows('owner')).toEqual([
      { key: 'agency', ...counts(10, 6, 2, 1, 1, 6 / 9, idx(7, 3, 4, 3 / 7, 1)) },
      { key: 'post', ...counts(1, 1, 0, 0, 0, 1) },
    ]);
    expect(await rows('district')).toEqual([
      { key: 'Cẩm Phả', ...counts(3, 1, 0, 1, 1, 1 / 2, NONE_RESOLVED) },
      { key: 'Hạ Long', ...counts(8, 6, 2, 0, 0, 6 / 8, idx(7, 3, 4, 3 / 7, 1)) },
    ]);
    // Rows are by the legal due: R2's index due (end of 10 March) does not move it off the 11th.
    expect(await rows('day')).toEqual([
      { key: '2026-03-01', ...counts(1, 1, 0, 0, 0, 1) },
      { key: '2026-03-05', ...counts(3, 1, 2, 0, 0, 1 / 3, idx(3, 1, 2, 1 / 3)) },
      { key: '2026-03-10', ...counts(1, 0, 0, 0, 1, 0, NONE_RESOLVED) },
      { key: '2026-03-11', ...counts(4, 4, 0, 0, 0, 1, idx(3, 1, 2, 1 / 3, 1)) },
      { key: '2026-03-16', ...counts(1, 0, 0, 1, 0, null, NONE_RESOLVED) },
      { key: '2026-03-31', ...counts(1, 1, 0, 0, 0, 1, idx(1, 1, 0, 1)) },
    ]);
    expect(await rows('month')).toEqual([{ key: '2026-03', ...MARCH_TOTALS }]);
  });

  test('window edges: a due at local midnight belongs to the day it ends', async () => {
    // M3 is due 2026-03-02T00:00+07:00, a due of 1 March.
    expect((await summary('from=2026-03-01&to=2026-03-01&groupBy=day')).body.rows).toEqual([{ key: '2026-03-01', ...counts(1, 1, 0, 0, 0, 1) }]);
    expect((await summary('from=2026-03-02&to=2026-03-31')).body.totals).toEqual(counts(10, 6, 2, 1, 1, 6 / 9, idx(7, 3, 4, 3 / 7, 1)));
    expect((await summary('from=2026-02-01&to=2026-02-28&agencyId=QN-STP')).body.totals).toEqual(counts(0, 0, 0, 0, 0, null));
    // M4 is due 2026-04-01T00:00+07:00, a due of 31 March.
    expect((await summary('from=2026-03-01&to=2026-03-30')).body.totals).toEqual(counts(10, 6, 2, 1, 1, 6 / 9, idx(6, 2, 4, 2 / 6, 1)));
    expect((await summary('from=2026-03-31&to=2026-04-30')).body.rows).toEqual([{ key: 'HL-TNMT', ...counts(1, 1, 0, 0, 0, 1, idx(1, 1, 0, 1)) }]);
    expect((await summary('from=2026-04-01&to=2026-04-30')).body.totals).toEqual(counts(0, 0, 0, 0, 0, null));
  });

  test('filtered to a post stage the index is null; filtered to processing it is the same as unfiltered', async () => {
    expect((await summary(`${MARCH}&stage=handoff`)).body.totals).toEqual(counts(1, 1, 0, 0, 0, 1));
    expect((await summary(`${MARCH}&stage=processing&agencyId=HL-UBND&procedureCode=2.000720`)).body).toEqual({
      from: '2026-03-01',
      to: '2026-03-31',
      groupBy: 'agency',
      filters: { stage: 'processing', agencyId: 'HL-UBND', procedureCode: '2.000720' },
      rows: [{ key: 'HL-UBND', ...counts(7, 5, 2, 0, 0, 5 / 7, idx(6, 2, 4, 2 / 6, 1)) }],
      totals: counts(7, 5, 2, 0, 0, 5 / 7, idx(6, 2, 4, 2 / 6, 1)),
    });
  });
});

const YEAR = 'from=2026-01-01&to=2026-12-31';

/** A summary line of 12 cells (strings from CSV, numbers or null from XLSX) back to the JSON shape. */
function fromCells(cells: unknown[]) {
  const num = (v: unknown) => (v === '' || v === null ? null : Number(v));
  const [key, total, metOnTime, metLate, open, overdue, rate, resolved, onTime, late, indexRate, unjudged] = cells;
  return {
    key,
    ...counts(
      num(total)!,
      num(metOnTime)!,
      num(metLate)!,
      num(open)!,
      num(overdue)!,
      num(rate),
      num(resolved) === null ? null : idx(num(resolved)!, num(onTime)!, num(late)!, num(indexRate), num(unjudged)!),
    ),
  };
}

function splitTotals(lines: ReturnType<typeof fromCells>[]) {
  const { key, ...totals } = lines.pop()!;
  expect(key).toBe(EXPECTED_TOTALS_LABEL);
  return { rows: lines, totals };
}

describe('exports of the summary', () => {
  test('CSV by ?format=csv or Accept: text/csv, parsing back to the JSON answer, for every groupBy', async () => {
    for (const groupBy of GROUP_BYS) {
      const json = await summary(`${YEAR}&groupBy=${groupBy}`);
      const viaFormat = await summary(`${YEAR}&groupBy=${groupBy}&format=csv`);
      const viaAccept = await get(`/v1/compliance/summary?${YEAR}&groupBy=${groupBy}`, manager(), { accept: 'text/csv' });
      for (const res of [viaFormat, viaAccept]) {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
        expect(res.headers.get('content-disposition')).toBe(`attachment; filename=compliance-2026-01-01-2026-12-31-${groupBy}.csv`);
        expect(res.body).toBe(viaFormat.body);
      }
      const [header, ...lines] = parseCsv(viaFormat.body as string);
      expect(header).toEqual(EXPECTED_SUMMARY_HEADER);
      expect(splitTotals(lines.map(fromCells))).toEqual({ rows: json.body.rows, totals: json.body.totals });
    }
    // JSON stays the default for a browser-like Accept.
    const browser = await get(`/v1/compliance/summary?${JAN_FEB}`, manager(), { accept: 'text/html,application/json;q=0.9,*/*;q=0.8' });
    expect(browser.headers.get('content-type')).toMatch(/^application\/json/);
  });

  test('XLSX by ?format=xlsx or Accept, parsing back to the JSON answer, for every groupBy', async () => {
    for (const groupBy of GROUP_BYS) {
      const json = await summary(`${YEAR}&groupBy=${groupBy}&stage=processing`);
      const viaFormat = await getBytes(`/v1/compliance/summary?${YEAR}&groupBy=${groupBy}&stage=processing&format=xlsx`);
      const viaAccept = await getBytes(`/v1/compliance/summary?${YEAR}&groupBy=${groupBy}&stage=processing`, { accept: XLSX });
      for (const res of [viaFormat, viaAccept]) {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe(XLSX);
        expect(res.headers.get('content-disposition')).toBe(`attachment; filename=compliance-2026-01-01-2026-12-31-${groupBy}.xlsx`);
        expect(res.headers.get('vary')).toMatch(/Accept/);
      }
      const ws = await sheetOf(viaAccept.bytes);
      expect(ws.name).toBe(`20260101-20261231 ${groupBy}`);
      expect(ws.getCell(1, 1).value).toBe(`Tuân thủ thời hạn / Deadline compliance: 2026-01-01 – 2026-12-31, theo / by ${groupBy}`);
      expect(ws.getCell(2, 1).value).toBe('Theo hạn gốc / By original due · Lọc / Filters: stage=processing');
      const [header, ...lines] = sheetRows(ws);
      expect(header).toEqual(EXPECTED_SUMMARY_HEADER);
      // Numbers come back as numbers, not text.
      for (const line of lines) expect(line.slice(1, 6).every((v) => typeof v === 'number')).toBe(true);
      expect(ws.getCell(4, 7).numFmt).toBe('0.0%');
      expect(splitTotals(lines.map(fromCells))).toEqual({ rows: json.body.rows, totals: json.body.totals });
    }
  });

  test('XLSX of the March window by agency, cell by cell', async () => {
    const ws = await sheetOf((await getBytes(`/v1/compliance/summary?${MARCH}&format=xlsx`)).bytes);
    expect(sheetRows(ws)).toEqual([
      EXPECTED_SUMMARY_HEADER,
      ['HL-TNMT', 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0],
      ['HL-UBND', 7, 5, 2, 0, 0, 5 / 7, 6, 2, 4, 2 / 6, 1],
      ['QN-STP', 3, 1, 0, 1, 1, 1 / 2, 0, 0, 0, null, 0],
      [EXPECTED_TOTALS_LABEL, 11, 7, 2, 1, 1, 7 / 10, 7, 3, 4, 3 / 7, 1],
    ]);
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
    expect(res.body).toEqual({ limit: 100, items: [item(F), item(C), item(M1)] });
    expect(res.body.items[0]).toMatchObject({ dueAt: '2026-01-07T00:00:00+07:00', startedAt: '2026-01-02T11:00:00+07:00', links: { dossier: '/v1/dossiers/CA-F' } });
  });

  test('filters and limit', async () => {
    expect((await get('/v1/compliance/overdue?agencyId=QN-STP')).body.items).toEqual([item(C), item(M1)]);
    expect((await get('/v1/compliance/overdue?stage=processing&agencyId=HL-UBND')).body.items).toEqual([item(F)]);
    expect((await get('/v1/compliance/overdue?stage=delivery')).body.items).toEqual([]);
    expect((await get('/v1/compliance/overdue?limit=1')).body).toEqual({ limit: 1, items: [item(F)] });
    expect((await get('/v1/compliance/overdue?limit=500')).body.items).toHaveLength(3);
    for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=1.5', 'limit=-1', 'stage=nope', 'format=pdf']) {
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

describe('exports of the overdue and at-risk lists', () => {
  const fromListCells = (cells: unknown[]) => {
    // A spreadsheet date-time is the Vietnamese wall clock: 7 hours ahead of UTC.
    const when = (v: unknown) => (v === null || v === '' ? null : v instanceof Date ? formatInstant(v.getTime() - 7 * HOUR) : String(v));
    const [dossierCode, stage, owner, agencyId, procedureCode, startedAt, dueAt, revisedDueAt, state, link] = cells;
    return { dossierCode, stage, owner, agencyId, procedureCode, dueAt: when(dueAt), revisedDueAt: when(revisedDueAt), startedAt: when(startedAt), state, links: { dossier: link } };
  };

  test('overdue as CSV and XLSX, parsing back to the JSON items', async () => {
    const json = (await get('/v1/compliance/overdue')).body.items;
    expect(json).toHaveLength(3);
    const csv = await get('/v1/compliance/overdue?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename=compliance-overdue-\d{4}-\d{2}-\d{2}\.csv$/);
    const [header, ...lines] = parseCsv(csv.body as string);
    expect(header).toEqual(EXPECTED_LIST_HEADER);
    expect(lines.map(fromListCells)).toEqual(json);

    const xlsx = await getBytes('/v1/compliance/overdue?format=xlsx&agencyId=QN-STP');
    expect(xlsx.headers.get('content-type')).toBe(XLSX);
    const ws = await sheetOf(xlsx.bytes);
    expect(ws.getCell(1, 1).value).toMatch(/^Thời hạn đã quá \/ Overdue deadlines/);
    const [xHeader, ...xLines] = sheetRows(ws);
    expect(xHeader).toEqual(EXPECTED_LIST_HEADER);
    expect(xLines.map(fromListCells)).toEqual([item(C), item(M1)]);
  });

  test('at-risk as XLSX by Accept and CSV by format, the same items as the JSON', async () => {
    const json = (await get('/v1/compliance/at-risk?withinHours=48')).body.items;
    expect(json).toEqual([item(G), item(H)]);
    const ws = await sheetOf((await getBytes('/v1/compliance/at-risk?withinHours=48', { accept: XLSX })).bytes);
    expect(ws.name).toBe('Sắp đến hạn - At risk');
    const [, ...xLines] = sheetRows(ws);
    expect(xLines.map(fromListCells)).toEqual(json);
    const [, ...lines] = parseCsv((await get('/v1/compliance/at-risk?withinHours=48&format=csv')).body as string);
    expect(lines.map(fromListCells)).toEqual(json);
  });
});

describe('unknown query parameters', () => {
  test('are refused with a 400 naming each, on every compliance route (as on the paged dossier list)', async () => {
    for (const [path, unknown] of [
      [`/v1/compliance/summary?${JAN_FEB}&groupby=day`, ['groupby']],
      [`/v1/compliance/summary?${JAN_FEB}&fromDate=2026-01-01&agency=HL-TNMT`, ['agency', 'fromDate']],
      ['/v1/compliance/overdue?limt=5', ['limt']],
      ['/v1/compliance/at-risk?within=3', ['within']],
    ] as const) {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ type: '/problems/validation', status: 400 });
      expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(unknown);
      for (const e of res.body.errors) expect(e.message).toBe('is not a known field');
    }
    // The same rule on the paged list.
    expect((await get('/v1/dossiers?limt=5')).body.errors).toEqual([{ path: 'limt', message: 'is not a known field' }]);
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

describe('read from the compliance counts', () => {
  test('the counts are built, and every answer above is the one the records give', async () => {
    expect(await countsReady(sys.db)).toBe(true);
    const windows = [JAN_FEB, MARCH, 'from=2026-01-08&to=2026-03-05', 'from=2026-03-02&to=2026-03-02'];
    for (const w of windows) {
      for (const groupBy of GROUP_BYS) {
        for (const filter of ['', '&stage=processing', '&agencyId=QN-STP', '&procedureCode=2.000720']) {
          const res = await summary(`${w}&groupBy=${groupBy}${filter}`);
          expect(res.status).toBe(200);
          const q = Object.fromEntries(new URLSearchParams(`${w}&groupBy=${groupBy}${filter}`)) as unknown as SummaryQuery & { groupBy: GroupBy };
          const scanned = await scanSummary(sys.db, q);
          expect({ query: `${w}&groupBy=${groupBy}${filter}`, rows: res.body.rows, totals: res.body.totals }).toEqual({
            query: `${w}&groupBy=${groupBy}${filter}`,
            rows: scanned.rows,
            totals: scanned.totals,
          });
        }
      }
    }
  });

  test('a projection write shows in the summary within a few seconds', async () => {
    // June 2026 holds nothing else: the figures are this deadline's alone.
    const JUNE = 'from=2026-06-01&to=2026-06-30&groupBy=stage';
    const v1 = deadlineDoc('CA-LAG', { dueAt: '2026-06-10T17:00:00+07:00', startedAt: '2026-06-05T10:00:00+07:00', version: 1 });
    await writeDeadline(sys.db, v1);
    const opened = await pollUntil(() => summary(JUNE), (r) => r.body.totals.total === 1, 50);
    expect(opened.body.rows).toEqual([{ key: 'processing', ...counts(1, 0, 0, 1, 0, null, NONE_RESOLVED) }]);
    await writeDeadline(sys.db, { ...v1, version: 2, state: 'met_on_time', completedAt: instant('2026-06-09T15:00:00+07:00') });
    const met = await pollUntil(() => summary(JUNE), (r) => r.body.totals.metOnTime === 1, 50);
    expect(met.body.rows).toEqual([{ key: 'processing', ...counts(1, 1, 0, 0, 0, 1, idx(1, 1, 0, 1)) }]);
  });
});
