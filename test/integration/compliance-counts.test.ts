/**
 * The compliance counts (store/compliance-counts/) against the run's real
 * FerretDB: after duplicated, stale, out-of-order and concurrent projection
 * writes, an aggregator crash, a second aggregator and records changed behind
 * the projection's back, the summary read from the counts is the summary
 * computed from the deadline records, for every groupBy, window and filter.
 */
import type { Db, MongoClient } from 'mongodb';
import { deadlineItem } from '../../api/compliance-export';
import { dueDay } from '../../domain/calendar';
import { countedRecords, scanAtRisk, scanOverdue, scanSummary, summarize, type GroupBy, type SummaryQuery } from '../../store/compliance';
import {
  CountsAggregator,
  CountsConflictError,
  countsCollection,
  countsAtRisk,
  countsOverdue,
  countsPathFor,
  countsReady,
  countsSummary,
  COUNTS_COLLECTIONS,
  type CountedRecord,
  type ListedDeadline,
} from '../../store/compliance-counts';
import { COLLECTIONS } from '../../store/db';
import { writeDeadline, type DeadlineDoc } from '../../store/read-model';
import { deadlineDoc } from '../support/compliance-figures';
import { crashAfterDays, faultyDb } from '../support/faulty-db';
import { freshDatabase } from '../support/mongo';

let mongo: MongoClient;
let db: Db;

beforeAll(async () => {
  ({ client: mongo, db } = await freshDatabase('counts'));
});
afterAll(async () => {
  await mongo?.close();
});

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function prng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T,>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

const AGENCIES = ['HL-UBND', 'HL-TNMT', 'QN-STP'] as const;
const PROCEDURES = ['1.001234', '2.000488', '2.000720'] as const;
// A district is free text: tabs, newlines and backslashes must not break the counts' text tables.
const DISTRICTS = ['Hạ Long', 'Cẩm Phả', 'Vân\tĐồn\nkhu 3 \\ xã \\t'] as const;
const STAGES = [
  ['pickup', 'post'],
  ['handoff', 'post'],
  ['processing', 'agency'],
  ['delivery', 'post'],
] as const;
const STATES = ['open', 'overdue', 'met_on_time', 'met_late'] as const;

/** A due instant in Feb–Apr 2026, some at local midnight (they belong to the day before). */
function dueAt(r: ReturnType<typeof prng>): string {
  const month = r.pick(['02', '03', '04']);
  const day = String(1 + Math.floor(r.next() * 28)).padStart(2, '0');
  return `2026-${month}-${day}T${r.pick(['00:00', '10:00', '16:30'])}:00+07:00`;
}

function randomDeadline(r: ReturnType<typeof prng>, i: number): DeadlineDoc {
  const [stage, owner] = r.pick(STAGES);
  const state = r.pick(STATES);
  const due = dueAt(r);
  const doc = deadlineDoc(`CC-${String(i).padStart(4, '0')}`, { stage, owner, state, dueAt: due, agencyId: r.pick(AGENCIES), procedureCode: r.pick(PROCEDURES), district: r.pick(DISTRICTS), version: 1 });
  return withOutcome(r, doc);
}

/** Completion, supplements and the index due, so every Decision 766 outcome occurs. */
function withOutcome(r: ReturnType<typeof prng>, d: DeadlineDoc): DeadlineDoc {
  const met = d.state === 'met_on_time' || d.state === 'met_late';
  const completedAt = met ? new Date(d.dueAt.getTime() + (r.next() < 0.5 ? -3600_000 : 3600_000)) : null;
  const kind = r.next();
  return {
    ...d,
    completedAt,
    multipleSupplementRequests: d.stage === 'processing' && kind < 0.15,
    indexDueAt: d.stage !== 'processing' ? null : kind < 0.3 ? null : new Date(d.dueAt.getTime() - (kind < 0.6 ? 7200_000 : 0)),
  };
}

/** A later version: a new state, and one time in five a due moved (a supplement restarted processing). */
function nextVersion(r: ReturnType<typeof prng>, d: DeadlineDoc): DeadlineDoc {
  let next: DeadlineDoc = { ...d, version: d.version + 1, state: r.pick(STATES) };
  if (r.next() < 0.2) {
    const due = new Date(d.dueAt.getTime() + Math.floor(1 + r.next() * 20) * 86_400_000);
    const day = dueDay(due.toISOString());
    next = { ...next, dueAt: due, dueDay: day, dueMonth: day.slice(0, 7) };
  }
  return withOutcome(r, next);
}

const GROUPS: GroupBy[] = ['agency', 'procedure', 'stage', 'owner', 'district', 'day', 'month'];
const WINDOWS = [
  { from: '2026-03-01', to: '2026-03-31' }, // a whole month
  { from: '2026-02-01', to: '2026-04-30' }, // three whole months
  { from: '2026-03-02', to: '2026-03-10' }, // part of a month
  { from: '2026-03-03', to: '2026-03-29' }, // most of a month
  { from: '2026-02-27', to: '2026-04-03' }, // edges of two months around a whole one
  { from: '2026-03-15', to: '2026-03-15' }, // one day
];
const FILTERS: Partial<SummaryQuery>[] = [{}, { stage: 'processing' }, { stage: 'delivery' }, { agencyId: 'QN-STP' }, { procedureCode: '2.000720', stage: 'processing' }];

const QUERIES: SummaryQuery[] = WINDOWS.flatMap((w) => GROUPS.flatMap((groupBy) => FILTERS.map((f) => ({ ...w, groupBy, ...f }))));

/** The deadline records as they are now (the truth the counts must match). */
async function records(): Promise<DeadlineDoc[]> {
  return db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find({}).toArray();
}

/** Every query, from the counts and from the records in memory; the scan itself for a sample (it reads everything). */
async function expectCountsExact(truth: DeadlineDoc[]): Promise<void> {
  const paths = new Set<string>();
  for (const q of QUERIES) {
    const inWindow = truth.filter(
      (d) => d.dueDay >= q.from && d.dueDay <= q.to && (!q.stage || d.stage === q.stage) && (!q.agencyId || d.agencyId === q.agencyId) && (!q.procedureCode || d.procedureCode === q.procedureCode),
    );
    expect({ q, summary: await countsSummary(db, q) }).toEqual({ q, summary: summarize(inWindow, q.groupBy) });
    paths.add(countsPathFor(q, q.from.slice(0, 7)));
  }
  // Every table the reader can choose was read.
  expect([...paths].sort()).toEqual(['byday', 'days', 'month', 'month-less-days']);
  for (const q of [QUERIES[0]!, QUERIES.at(-1)!]) expect(await countsSummary(db, q)).toEqual(await scanSummary(db, q));

  // The lists: what the API shows of each deadline, in their order.
  const shown = (ds: ListedDeadline[]) => ds.map(deadlineItem);
  const byDue = (a: DeadlineDoc, b: DeadlineDoc) => a.dueAt.getTime() - b.dueAt.getTime() || (a._id < b._id ? -1 : 1);
  for (const q of [{ limit: 1000 }, { limit: 5 }, { stage: 'processing' as const, limit: 1000 }, { agencyId: 'QN-STP', limit: 7 }, { stage: 'pickup' as const, agencyId: 'HL-UBND', limit: 1000 }]) {
    const want = truth.filter((d) => d.state === 'overdue' && (!q.stage || d.stage === q.stage) && (!('agencyId' in q) || d.agencyId === q.agencyId)).sort(byDue).slice(0, q.limit);
    if (!q.stage) expect(want.length).toBeGreaterThan(0);
    expect({ q, list: shown(await countsOverdue(db, q)) }).toEqual({ q, list: shown(want) });
  }
  expect(shown(await countsOverdue(db, { limit: 50 }))).toEqual(shown(await scanOverdue(db, { limit: 50 })));
  // From a due instant (excluded) to one a day later (included); over a month end; the longest window.
  for (const [from, withinHours] of [['2026-03-10T10:00:00+07:00', 24], ['2026-03-27T16:30:00+07:00', 120], ['2026-02-14T00:00:00+07:00', 720], ['2026-03-31T23:59:00+07:00', 1]] as const) {
    const now = Date.parse(from);
    const want = truth.filter((d) => d.state === 'open' && d.dueAt.getTime() > now && d.dueAt.getTime() <= now + withinHours * 3600_000).sort(byDue);
    expect({ from, withinHours, list: shown(await countsAtRisk(db, { now, withinHours })) }).toEqual({ from, withinHours, list: shown(want) });
    if (withinHours === 720) expect(want.length).toBeGreaterThan(0);
    if (withinHours === 24) expect(shown(await countsAtRisk(db, { now, withinHours }))).toEqual(shown(await scanAtRisk(db, { now, withinHours })));
  }
}

async function drain(agg: CountsAggregator): Promise<number> {
  let applied = 0;
  for (;;) {
    const r = await agg.pass({ limit: 150 });
    applied += r.applied;
    if (!r.read) return applied;
  }
}

const pendingChanges = () => db.collection(COUNTS_COLLECTIONS.changes).countDocuments({});

describe('compliance counts on FerretDB', () => {
  const r = prng(20260327);
  let versions: DeadlineDoc[] = [];

  test('not ready until built; the first verification builds them from the records (the backfill)', async () => {
    versions = Array.from({ length: 240 }, (_, i) => randomDeadline(r, i));
    // Written before any aggregator ran: only the records exist, and the change records pile up.
    await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).insertMany(versions.slice(0, 200));
    expect(await countsReady(db)).toBe(false);

    const agg = new CountsAggregator(db);
    await agg.load();
    const built = await agg.verify(countedRecords(db, 64));
    expect(built).toMatchObject({ checked: 200, corrected: 200 });
    expect(await countsReady(db)).toBe(true);
    await expectCountsExact(await records());
    // A second verification finds nothing to correct.
    expect(await agg.verify(countedRecords(db, 64))).toMatchObject({ checked: 200, corrected: 0, daysWritten: 0 });
  });

  test('projection writes delivered twice, stale, out of order and concurrently, then a crash mid-pass: exact after a restart', async () => {
    // New deadlines, then three rounds of later versions of a third of all of them.
    const writes: DeadlineDoc[] = [...versions.slice(200)];
    const current = new Map(versions.map((d) => [d._id, d]));
    for (let round = 0; round < 3; round++) {
      for (const d of [...current.values()].filter(() => r.next() < 0.33)) {
        const next = nextVersion(r, d);
        current.set(d._id, next);
        writes.push(next);
      }
    }
    // Duplicates (a retried activity), stale versions (a zombie attempt) and newer-before-older pairs.
    const delivered: DeadlineDoc[] = [];
    for (const w of writes) {
      const x = r.next();
      if (x < 0.1) delivered.push(w, w);
      else if (x < 0.2 && w.version > 1) delivered.push(w, { ...w, version: w.version - 1, state: 'open' });
      else delivered.push(w);
    }
    for (let i = 0; i + 1 < delivered.length; i += 7) [delivered[i], delivered[i + 1]] = [delivered[i + 1]!, delivered[i]!];
    // Eight concurrent writers, as eight activities would be. One dossier's writes are never concurrent
    // (its workflow runs one projection at a time), and FerretDB's guarded replace relies on that.
    const writer = (id: string) => [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 8, 0);
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (const d of delivered) if (writer(d._id) === w) await writeDeadline(db, d);
      }),
    );
    // The guarded write kept the newest version of each record.
    const truth = await records();
    expect(truth.map((d) => [d._id, d.version]).sort()).toEqual([...current.values()].map((d) => [d._id, d.version]).sort());

    const faults = faultyDb(db);
    const crashing = new CountsAggregator(faults.db);
    await crashing.load();
    faults.failAt(crashAfterDays(3));
    await expect(crashing.pass()).rejects.toThrow(/injected fault/);
    // Nothing was deleted: every change is still pending.
    expect(await pendingChanges()).toBeGreaterThan(0);

    const restarted = new CountsAggregator(db);
    const loaded = await restarted.load();
    expect(loaded.healed).toBeGreaterThan(0);
    expect(await drain(restarted)).toBeGreaterThan(0);
    expect(await pendingChanges()).toBe(0);
    await expectCountsExact(truth);
    versions = truth;
  });

  test('a second aggregator is refused on the first day both write, and is exact after it reloads', async () => {
    const first = new CountsAggregator(db);
    const second = new CountsAggregator(db);
    await first.load();
    await second.load();
    const d = nextVersion(r, versions[0]!);
    await writeDeadline(db, d);
    await first.pass();
    await writeDeadline(db, nextVersion(r, d));
    await expect(second.pass()).rejects.toBeInstanceOf(CountsConflictError);
    await second.load();
    await drain(second);
    await expectCountsExact(await records());
  });

  test('records changed behind the projection are corrected by a verification; a pass during it keeps the newer version', async () => {
    const agg = new CountsAggregator(db);
    await agg.load();
    const [gone, changed, moved] = versions.slice(10, 13) as [DeadlineDoc, DeadlineDoc, DeadlineDoc];
    const deadlines = db.collection<DeadlineDoc>(COLLECTIONS.deadlines);
    await deadlines.deleteOne({ _id: gone._id });
    await deadlines.updateOne({ _id: changed._id }, { $set: { state: changed.state === 'overdue' ? 'met_late' : 'overdue' } });
    await deadlines.insertOne(deadlineDoc('CC-NEW', { dueAt: '2026-03-20T10:00:00+07:00', state: 'overdue', version: 1 }));

    // The read holds `moved` as it was; while it runs, the projection writes a newer version.
    const read = await records();
    const newer = { ...nextVersion(r, moved), state: 'met_on_time' as const };
    const batches = async function* (): AsyncGenerator<CountedRecord[]> {
      yield read.filter((d) => d._id !== moved._id);
      yield read.filter((d) => d._id === moved._id);
    };
    let passes = 0;
    const result = await agg.verify(batches(), {
      between: async () => {
        if (passes++ === 0) {
          await writeDeadline(db, newer);
          await agg.pass();
        }
      },
    });
    expect(result.corrected).toBe(3);
    await expectCountsExact(await records());
    expect((await records()).find((d) => d._id === moved._id)!.version).toBe(newer.version);
  });

  test('a restart from what is stored changes nothing; old revisions of a day are not kept', async () => {
    const before = await Promise.all(QUERIES.slice(0, 10).map((q) => countsSummary(db, q)));
    const agg = new CountsAggregator(db);
    expect((await agg.load()).healed).toBe(0);
    expect(await Promise.all(QUERIES.slice(0, 10).map((q) => countsSummary(db, q)))).toEqual(before);
    for (const month of ['2026-02', '2026-03', '2026-04']) {
      const docs = await db.collection<{ day: string }>(countsCollection('members', month)).find({}, { projection: { day: 1 } }).toArray();
      expect(new Set(docs.map((d) => d.day)).size).toBe(docs.length);
    }
  });
});
