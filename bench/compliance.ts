/**
 * Compliance read-model benchmark (issue #5): `npm run bench:compliance`.
 *
 * Starts its own FerretDB in a temporary folder, seeds synthetic deadline
 * records (bench/dataset.ts) at each size, creates the indexes of store/db.ts
 * and measures, next to in-run baselines (ping, an `_id` lookup):
 * - the compliance summary for a one-month window (default groupBy and
 *   groupBy=day) with three strategies: `scan` (store/compliance.ts's
 *   scanSummary, what the summary does before the counts are built),
 *   `aggregate` ($match + $group $sum in FerretDB) and `counts`
 *   (store/compliance-counts/, what the summary reads once built);
 * - the overdue list (limit 100), what FerretDB's explain says, where the
 *   time goes (scan vs fetch), the write path, and the counts' exactness
 *   under duplicates, stale versions and a crashed aggregator pass.
 *
 * Options: --sizes=10000,100000,1000000 --runs=30 --warmup=3 --budget=60
 * (seconds per measurement: slow ones stop early, at least one run)
 * --churn=2000 --batch=2000 --strategies=scan,aggregate,counts
 * --out=docs/BENCHMARKS.md --keep (leave the temporary folder).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { MongoClient, type Db, type Document } from 'mongodb';
import { deadlineItem } from '../api/compliance-export';
import { REPO_ROOT, startFerretDB, toolPaths } from '../scripts/servers';
import { GROUP_FIELD, scanAtRisk, scanOverdue, scanSummary, summarize, type GroupBy, type Summary, type SummaryQuery } from '../store/compliance';
import { CountsAggregator, COUNTS_COLLECTIONS, countsAtRisk, countsOverdue, countsPathFor, countsSummary, monthsBetween, countsTables, recordDeadlineChange, type CountedRecord, type ListedDeadline } from '../store/compliance-counts';
import { COLLECTIONS, ensureIndexes } from '../store/db';
import type { DeadlineDoc } from '../store/read-model';
import { crashAfterDays, faultyDb } from '../test/support/faulty-db';
import { batches, deadlines, NOW, rng, WINDOW } from './dataset';

// ------------------------------------------------------------------ options

interface Options {
  sizes: number[];
  runs: number;
  warmup: number;
  budgetMs: number;
  churn: number;
  batch: number;
  strategies: Strategy[];
  out: string;
  keep: boolean;
}

const STRATEGIES = ['scan', 'aggregate', 'counts'] as const;
type Strategy = (typeof STRATEGIES)[number];

function parseArgs(argv: string[]): Options {
  const o: Options = {
    sizes: [10_000, 100_000, 1_000_000],
    runs: 30,
    warmup: 3,
    budgetMs: 60_000,
    churn: 2000,
    batch: 2000,
    strategies: [...STRATEGIES],
    out: path.join(REPO_ROOT, 'docs', 'BENCHMARKS.md'),
    keep: false,
  };
  const int = (k: string, v: string): number => {
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} must be a non-negative integer, got ${v}`);
    return n;
  };
  for (const arg of argv) {
    const [, k, v = ''] = /^--([a-z]+)(?:=(.*))?$/.exec(arg) ?? [];
    if (k === 'sizes') o.sizes = v.split(',').map((s) => int(k, s)).filter((n) => n > 0);
    else if (k === 'runs') o.runs = Math.max(1, int(k, v));
    else if (k === 'warmup') o.warmup = int(k, v);
    else if (k === 'budget') o.budgetMs = int(k, v) * 1000;
    else if (k === 'churn') o.churn = int(k, v);
    else if (k === 'batch') o.batch = Math.max(1, int(k, v));
    else if (k === 'strategies') {
      o.strategies = v.split(',') as Strategy[];
      for (const s of o.strategies) if (!STRATEGIES.includes(s)) throw new Error(`unknown strategy ${s} (${STRATEGIES.join(', ')})`);
    } else if (k === 'out') o.out = path.resolve(v);
    else if (k === 'keep') o.keep = true;
    else throw new Error(`unknown option ${arg}`);
  }
  if (!o.sizes.length) throw new Error('--sizes is empty');
  return o;
}

// -------------------------------------------------------------- measurement

interface Measure {
  n: number;
  warmup: number;
  /** The warm-up stopped after one slow call. */
  warmupCut: boolean;
  p50: number;
  p95: number;
  max: number;
  /** FerretDB process CPU per call (ms), from /proc; null elsewhere. */
  ferretCpu: number | null;
  /** This process's CPU per call (ms): driver decoding and tallying in code. */
  nodeCpu: number;
}

let ferretPid = -1;
const CLK_TCK = 100;

/** utime + stime of the FerretDB process in ms (Linux only). */
function ferretCpuMs(): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${ferretPid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Warm-up calls, then measured ones until `runs` or the budget (at least
 * one). A warm-up call slower than a quarter of the budget ends the warm-up:
 * more of them would eat the budget of a full scan.
 */
async function measure<T>(o: Options, fn: () => Promise<T>): Promise<Measure & { last: T }> {
  const start = performance.now();
  const wall: number[] = [];
  let fcpu = 0;
  let ncpu = 0;
  let warm = 0;
  let last!: T;
  const call = async (keep: boolean): Promise<number> => {
    const f0 = ferretCpuMs();
    const n0 = process.cpuUsage();
    const t0 = performance.now();
    last = await fn();
    const ms = performance.now() - t0;
    if (keep) {
      const f1 = ferretCpuMs();
      const n1 = process.cpuUsage(n0);
      wall.push(ms);
      fcpu += f0 === null || f1 === null ? NaN : f1 - f0;
      ncpu += (n1.user + n1.system) / 1000;
    }
    return ms;
  };
  let cut = false;
  while (warm < o.warmup && !cut) {
    warm++;
    cut = (await call(false)) > o.budgetMs / 4;
  }
  while (wall.length < o.runs && (wall.length === 0 || performance.now() - start < o.budgetMs)) await call(true);
  const sorted = [...wall].sort((a, b) => a - b);
  return {
    n: wall.length,
    warmup: warm,
    warmupCut: cut,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1],
    ferretCpu: Number.isNaN(fcpu) ? null : fcpu / wall.length,
    nodeCpu: ncpu / wall.length,
    last,
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

// ---------------------------------------------------------------- strategies

/**
 * $match + $group $sum in FerretDB, then the same summarize() over one
 * record per group and count. Without $cond, Decision 766's outcome cannot be
 * computed in the pipeline: processing records are grouped by the fields it
 * reads (completedAt makes those groups nearly one per completed record).
 */
async function aggregateSummary(db: Db, q: SummaryQuery): Promise<Summary> {
  const groupBy = q.groupBy ?? 'agency';
  const field = GROUP_FIELD[groupBy];
  const match: Document = { dueDay: { $gte: q.from, $lte: q.to } };
  if (q.agencyId) match.agencyId = q.agencyId;
  if (q.procedureCode) match.procedureCode = q.procedureCode;
  const coll = db.collection(COLLECTIONS.deadlines);
  type Group = { _id: { k?: string; s: DeadlineDoc['state']; st: DeadlineDoc['stage']; m?: boolean; c?: Date | null; i?: Date | null }; n: number };
  const run = (stage: Document | string, id: Document) =>
    coll.aggregate<Group>([{ $match: { ...match, stage } }, { $group: { _id: id, n: { $sum: 1 } } }]).toArray();
  const key = { k: `$${field}`, s: '$state', st: '$stage' };
  const wantProcessing = !q.stage || q.stage === 'processing';
  const [post, processing] = await Promise.all([
    q.stage === 'processing' ? [] : run(q.stage ? q.stage : { $ne: 'processing' }, key),
    wantProcessing ? run('processing', { ...key, m: '$multipleSupplementRequests', c: '$completedAt', i: '$indexDueAt' }) : [],
  ]);
  function* records() {
    for (const g of [...post, ...processing]) {
      const rec = {
        state: g._id.s,
        stage: g._id.st,
        completedAt: g._id.c ?? null,
        multipleSupplementRequests: g._id.m ?? false,
        indexDueAt: g._id.i,
        [field]: g._id.k,
      } as unknown as DeadlineDoc;
      for (let i = 0; i < g.n; i++) yield rec;
    }
  }
  return summarize(records(), groupBy);
}

// ------------------------------------------------------------------ results

interface Row {
  op: string;
  strategy: string;
  m: Measure;
  returned?: number;
}

interface PlanRow {
  query: string;
  plan: string;
  filterPushdown: string;
  sortPushdown: string;
  limitPushdown: string;
  sqliteRows: string;
  decoded: string;
  returned: number;
}

interface SizeResult {
  size: number;
  seedMs: number;
  indexMs: number;
  windowRecords: number;
  overdueRecords: number;
  load: [number, number];
  rows: Row[];
  plans: PlanRow[];
  notes: string[];
  exact: string[];
  churn: string[];
}

// ------------------------------------------------------------------ per size

async function runSize(client: MongoClient, o: Options, size: number, log: (s: string) => void): Promise<SizeResult> {
  const db = client.db(`bench_compliance_${size}`);
  await db.dropDatabase();
  const res: SizeResult = {
    size,
    seedMs: 0,
    indexMs: 0,
    windowRecords: 0,
    overdueRecords: 0,
    load: [os.loadavg()[0], 0],
    rows: [],
    plans: [],
    notes: [],
    exact: [],
    churn: [],
  };
  const deadlinesColl = db.collection<DeadlineDoc>(COLLECTIONS.deadlines);

  // Seeding: batches of insertMany, no index but _id yet (bulk load), the window kept in memory as the truth.
  const truth = new Map<string, DeadlineDoc>();
  let seeded = 0;
  let lastLog = performance.now();
  const seed = await timed(async () => {
    for (const batch of batches(size, o.batch)) {
      await deadlinesColl.insertMany(batch, { ordered: false });
      seeded += batch.length;
      for (const d of batch) {
        if (d.dueDay >= WINDOW.from && d.dueDay <= WINDOW.to) truth.set(d._id, d);
        if (d.state === 'overdue') res.overdueRecords++;
      }
      if (performance.now() - lastLog > 30_000) {
        lastLog = performance.now();
        log(`  seeded ${seeded.toLocaleString('en')} / ${size.toLocaleString('en')}`);
      }
    }
  });
  res.seedMs = seed.ms;
  res.windowRecords = truth.size;
  log(`  seeded ${size} in ${(seed.ms / 1000).toFixed(1)} s (${Math.round(size / (seed.ms / 1000))} docs/s)`);
  res.indexMs = (await timed(() => ensureIndexes(db))).ms;
  log(`  indexes in ${(res.indexMs / 1000).toFixed(1)} s`);

  const q = (groupBy: GroupBy): SummaryQuery => ({ ...WINDOW, groupBy });
  const someId = [...truth.keys()][Math.floor(truth.size / 2)];
  const add = (op: string, strategy: string, m: Measure, returned?: number) => {
    res.rows.push({ op, strategy, m, returned });
    log(`  ${op} [${strategy}] n=${m.n} p50=${m.p50.toFixed(1)} p95=${m.p95.toFixed(1)} ms`);
  };

  // In-run baselines.
  add('ping', 'baseline', await measure(o, () => db.command({ ping: 1 })));
  add('_id lookup', 'baseline', await measure(o, () => deadlinesColl.findOne({ _id: someId })), 1);

  // What FerretDB says it does.
  await explainAll(db, res, someId, size);

  // The pre-aggregated counts: build, restart cost, reads, exactness under churn.
  const countsResults = new Map<GroupBy, Summary>();
  const atRiskQ = { now: NOW, withinHours: 24 };
  const countsLists: { overdue?: ListedDeadline[]; atRisk?: ListedDeadline[] } = {};
  let partialCheck = '';
  if (o.strategies.includes('counts')) {
    // Through a database a fault can be set on: the churn crashes this aggregator mid-pass.
    const faults = faultyDb(db);
    const agg = new CountsAggregator(faults.db);
    await dropCounts(db);
    // The backfill from the seeded records themselves (in production it reads the deadlines collection).
    const rebuild = await timed(() => agg.verify(inBatches(take(deadlines(), size), 1000)));
    res.notes.push(`counts: built (${rebuild.value.daysWritten} day documents) from ${size.toLocaleString('en')} records in ${(rebuild.ms / 1000).toFixed(1)} s`);
    const load = await timed(() => new CountsAggregator(db).load());
    res.notes.push(
      `counts: an aggregator restart (load() of every members table) takes ${(load.ms / 1000).toFixed(1)} s (${load.value.days} days, ${load.value.healed} healed)`,
    );
    for (const g of ['agency', 'day'] as const) {
      const m = await measure(o, () => countsSummary(db, q(g)));
      countsResults.set(g, m.last);
      add(`summary groupBy=${g}`, `counts (${pathsOf(q(g))} table)`, m, m.last.rows.length);
    }
    // A window that is not whole months: most of a month reads the month table less the excluded days.
    const partial: SummaryQuery = { from: '2026-03-02', to: '2026-03-30', groupBy: 'agency' };
    const pm = await measure(o, () => countsSummary(db, partial));
    add(`summary groupBy=agency, ${partial.from}..${partial.to}`, `counts (${pathsOf(partial)} table)`, pm, pm.last.rows.length);
    const partialSummary = pm.last;
    partialCheck = (`counts ${partial.from}..${partial.to} groupBy=agency: ${isDeepStrictEqual(partialSummary, summarize(filterWindow(truth.values(), partial), 'agency')) ? 'identical to the seeded truth' : 'DIFFERS from the seeded truth'}`);
    // The lists, before the churn below moves the counts away from the seeded records.
    const m = await measure(o, () => countsOverdue(db, { limit: 100 }));
    add('overdue list limit=100', 'counts (overdue table)', m, m.last.length);
    countsLists.overdue = m.last;
    const a = await measure(o, () => countsAtRisk(db, atRiskQ));
    add('at-risk list, 24 h', 'counts (open table, one document per day)', a, a.last.length);
    countsLists.atRisk = a.last;
    // On a copy: the deadlines collection (and the other strategies) keep the seeded records.
    if (o.churn > 0) await churn(o, db, agg, faults, new Map(truth), res, log);
  }

  // The shipped path and the aggregate alternative.
  const scanResults = new Map<GroupBy, Summary>();
  for (const g of ['agency', 'day'] as const) {
    if (o.strategies.includes('scan')) {
      const m = await measure(o, () => scanSummary(db, q(g)));
      scanResults.set(g, m.last);
      add(`summary groupBy=${g}`, 'scan', m, m.last.rows.length);
    }
    if (o.strategies.includes('aggregate')) {
      const m = await measure(o, () => aggregateSummary(db, q(g)));
      add(`summary groupBy=${g}`, 'aggregate', m, m.last.rows.length);
      const ref = scanResults.get(g);
      if (ref) res.exact.push(`aggregate groupBy=${g}: ${isDeepStrictEqual(m.last, ref) ? 'identical to scan' : 'DIFFERS from scan'}`);
    }
    const ref = scanResults.get(g) ?? summarize(truth.values(), g);
    const counts = countsResults.get(g);
    if (counts) {
      res.exact.push(`counts groupBy=${g}: ${isDeepStrictEqual(counts, ref) ? `identical to ${scanResults.has(g) ? 'scan' : 'the seeded truth'}` : 'DIFFERS'}`);
    }
    if (scanResults.has(g)) {
      res.exact.push(`scan groupBy=${g}: ${isDeepStrictEqual(scanResults.get(g), summarize(truth.values(), g)) ? 'identical to the seeded truth' : 'DIFFERS from the seeded truth'}`);
    }
  }

  if (partialCheck) res.exact.push(partialCheck);

  // The lists: from the records (scan), and from the counts' list tables (measured above, before the churn).
  const lists: Record<string, Partial<Record<Strategy, ListedDeadline[]>>> = { overdue: {}, atRisk: {} };
  if (o.strategies.includes('scan')) {
    const m = await measure(o, () => scanOverdue(db, { limit: 100 }));
    add('overdue list limit=100', 'scan', m, m.last.length);
    lists.overdue!.scan = m.last;
    const a = await measure(o, () => scanAtRisk(db, atRiskQ));
    add('at-risk list, 24 h', 'scan', a, a.last.length);
    lists.atRisk!.scan = a.last;
  }
  lists.overdue!.counts = countsLists.overdue;
  lists.atRisk!.counts = countsLists.atRisk;
  for (const [name, got] of Object.entries(lists)) {
    if (got.scan && got.counts) res.exact.push(`counts ${name} list: ${isDeepStrictEqual(got.counts.map(deadlineItem), got.scan.map(deadlineItem)) ? 'identical to scan' : 'DIFFERS from scan'} (${got.counts.length} items)`);
  }

  // Where the time goes: scanning everything vs returning the window's documents.
  const none = await measure(o, () => deadlinesColl.find({ dueDay: 'none' }).toArray());
  add('find, 0 returned (scan + filter only)', 'scan', none, 0);
  const windowColl = db.collection<DeadlineDoc>('window_only');
  for (const chunk of chunks([...truth.values()], o.batch)) await windowColl.insertMany(chunk, { ordered: false });
  const fetch = await measure(o, () =>
    windowColl
      .find({}, { projection: { _id: 0, state: 1, agencyId: 1, procedureCode: 1, stage: 1, owner: 1, district: 1, dueDay: 1, dueMonth: 1 } })
      .toArray(),
  );
  add(`fetch the window's ${truth.size} docs, no filter (own collection)`, 'scan', fetch, fetch.last.length);
  await windowColl.drop();

  // The write path: store/read-model.ts upsertIfNewer's filter, and the counts' change record.
  let v = 1000;
  const doc = truth.get(someId)!;
  add(
    'projection write: replaceOne {_id, version: {$lt}} upsert',
    'write',
    await measure({ ...o, runs: Math.min(o.runs, 10) }, () =>
      deadlinesColl.replaceOne({ _id: doc._id, version: { $lt: ++v } }, { ...doc, version: v }, { upsert: true }),
    ),
  );
  add(
    'replaceOne {_id} only',
    'write',
    await measure({ ...o, runs: Math.min(o.runs, 10) }, () => deadlinesColl.replaceOne({ _id: doc._id }, { ...doc, version: ++v })),
  );

  res.load[1] = os.loadavg()[0];
  await db.dropDatabase();
  return res;
}

async function explainAll(db: Db, res: SizeResult, someId: string, size: number): Promise<void> {
  const coll = db.collection<DeadlineDoc>(COLLECTIONS.deadlines);
  const match = { dueDay: { $gte: WINDOW.from, $lte: WINDOW.to } };
  const windowCount = res.windowRecords;
  const cases: [string, () => Promise<Document>, number][] = [
    ['summary find (dueDay range, projection)', () => coll.find(match, { projection: { _id: 0, state: 1, agencyId: 1 } }).explain(), windowCount],
    [
      'aggregate $match + $group (returned: matched by $match)',
      () => coll.aggregate([{ $match: match }, { $group: { _id: { k: '$agencyId', s: '$state' }, n: { $sum: 1 } } }]).explain(),
      windowCount,
    ],
    ['overdue find (state, sort dueAt,_id, limit 100)', () => coll.find({ state: 'overdue' }).sort({ dueAt: 1, _id: 1 }).limit(100).explain(), Math.min(100, res.overdueRecords)],
    ['_id lookup', () => coll.find({ _id: someId }).explain(), 1],
  ];
  for (const [query, fn, returned] of cases) {
    try {
      const e = await fn();
      const planLines = (e.queryPlanner?.Plan as string[] | undefined) ?? [];
      const plan = planLines.map((l) => l.replace(/^.*detail=/, '')).join('; ') || JSON.stringify(e.queryPlanner);
      const scans = /\bSCAN\b/.test(plan) && !/USING (COVERING )?INDEX/.test(plan);
      res.plans.push({
        query,
        plan,
        filterPushdown: String(e.filterPushdown),
        sortPushdown: String(e.sortPushdown),
        limitPushdown: String(e.limitPushdown),
        sqliteRows: scans ? `all ${size.toLocaleString('en')}` : 'index range',
        decoded: e.filterPushdown ? String(returned) : `all ${size.toLocaleString('en')}`,
        returned,
      });
    } catch (err) {
      res.plans.push({ query, plan: `explain failed: ${(err as Error).message}`, filterPushdown: '?', sortPushdown: '?', limitPushdown: '?', sqliteRows: '?', decoded: '?', returned });
    }
  }
}

/**
 * Exactness of the counts under what the projection does in real life:
 * concurrent writers, retries (duplicates), stale versions arriving late,
 * versions out of order, deadlines moving to another due day, and an
 * aggregator that crashes mid-pass and restarts.
 */
/** Drops every counts table and the state, for a fresh build: the next verification builds them again. */
async function dropCounts(db: Db): Promise<void> {
  const names = [...(await countsTables(db)).map((t) => t.name), COUNTS_COLLECTIONS.overdue, COUNTS_COLLECTIONS.meta];
  for (const name of names) await db.collection(name).drop().catch(() => undefined);
}

async function churn(o: Options, db: Db, agg: CountsAggregator, faults: ReturnType<typeof faultyDb>, truth: Map<string, DeadlineDoc>, res: SizeResult, log: (s: string) => void): Promise<void> {
  const r = rng(7);
  const ids = [...truth.keys()];
  const states: DeadlineDoc['state'][] = ['open', 'overdue', 'met_on_time', 'met_late'];
  // The records as the projection writes them; each write inserts its change record.
  const changes: DeadlineDoc[] = [];
  let moved = 0;
  const n = Math.min(o.churn, ids.length);
  for (let i = 0; i < n; i++) {
    const id = ids[Math.floor(r() * ids.length)];
    const cur = truth.get(id);
    if (!cur) continue;
    const stale = cur;
    let next: DeadlineDoc;
    if (r() < 0.2) {
      // A supplement restarts processing: a later due day, possibly next month (out of the window).
      const due = new Date(Date.parse(`${cur.dueDay}T00:00:00Z`) + Math.ceil(r() * 20) * 86_400_000).toISOString().slice(0, 10);
      next = { ...cur, version: cur.version + 1, dueDay: due, dueMonth: due.slice(0, 7), state: 'open' };
      moved++;
    } else {
      next = { ...cur, version: cur.version + 1, state: states.filter((s) => s !== cur.state)[Math.floor(r() * 3)] };
    }
    changes.push(next);
    if (r() < 0.1) changes.push(next); // a retried projection write
    if (r() < 0.1) changes.push(stale); // a zombie attempt of the previous version
    if (r() < 0.1) {
      // Two versions, the newer recorded first.
      const newer = { ...next, version: next.version + 1, state: 'met_late' as const };
      changes.splice(changes.length - 1, 0, newer);
      next = newer;
    }
    if (next.dueDay >= WINDOW.from && next.dueDay <= WINDOW.to) truth.set(id, next);
    else truth.delete(id);
  }
  // Concurrent writers, in shuffled order.
  for (let i = changes.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [changes[i], changes[j]] = [changes[j], changes[i]];
  }
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < changes.length) {
        const c = changes[next++];
        const t = performance.now();
        await recordDeadlineChange(db, c);
        lat.push(performance.now() - t);
      }
    }),
  );
  const insertMs = performance.now() - t0;
  lat.sort((a, b) => a - b);
  res.churn.push(
    `${changes.length} change records (${n} deadlines changed, ${moved} moved to a later day, plus duplicates, stale and out-of-order versions) inserted by 8 concurrent writers in ${(insertMs / 1000).toFixed(1)} s; insert p50 ${percentile(lat, 50).toFixed(1)} ms, p95 ${percentile(lat, 95).toFixed(1)} ms`,
  );
  try {
    faults.failAt(crashAfterDays(3));
    await agg.pass({ limit: changes.length });
  } catch (err) {
    res.churn.push(`first pass: ${(err as Error).message} (change records left pending)`);
  }
  const restarted = new CountsAggregator(db);
  const load = await timed(() => restarted.load());
  res.churn.push(`restart: load() in ${(load.ms / 1000).toFixed(1)} s, ${load.value.healed} day(s) rewritten to heal the crash`);
  const passes: string[] = [];
  for (;;) {
    const { value: p, ms } = await timed(() => restarted.pass({ limit: 2000 }));
    if (p.read === 0) break;
    passes.push(`${p.read} read, ${p.applied} applied, ${p.ignored} ignored, ${p.daysWritten} days written, ${(ms / 1000).toFixed(2)} s`);
  }
  res.churn.push(`passes after restart: ${passes.join('; ') || 'none'}`);
  const queries: SummaryQuery[] = [
    { ...WINDOW },
    { ...WINDOW, groupBy: 'day' },
    { ...WINDOW, groupBy: 'district', stage: 'processing' },
    { ...WINDOW, groupBy: 'procedure', agencyId: 'HL-UBND' },
    { ...WINDOW, groupBy: 'day', agencyId: 'HL-UBND' },
    { ...WINDOW, groupBy: 'owner', stage: 'delivery' },
    { from: '2026-03-10', to: '2026-03-20', groupBy: 'stage', procedureCode: '1.001024' },
    { from: '2026-03-10', to: '2026-03-31', groupBy: 'month' },
  ];
  for (const cq of queries) {
    const got = await countsSummary(db, cq);
    const want = summarize(filterWindow(truth.values(), cq), cq.groupBy ?? 'agency');
    const label = `${JSON.stringify({ ...cq, from: undefined, to: undefined })} ${cq.from}..${cq.to} via ${pathsOf(cq).replace(/, /g, '+')}`;
    const same = isDeepStrictEqual(got, want);
    const diff = same ? '' : `; got ${JSON.stringify(got.totals)}, want ${JSON.stringify(want.totals)}`;
    res.churn.push(`after churn ${label}: ${same ? 'exact' : 'DIFFERS from the truth'} (total ${got.totals.total}${diff})`);
  }
  log(`  churn: ${res.churn.filter((s) => s.includes('DIFFERS')).length ? 'MISMATCH' : 'exact'}`);
}

function filterWindow(records: Iterable<DeadlineDoc>, q: SummaryQuery): DeadlineDoc[] {
  return [...records].filter(
    (d) =>
      d.dueDay >= q.from &&
      d.dueDay <= q.to &&
      (!q.stage || d.stage === q.stage) &&
      (!q.agencyId || d.agencyId === q.agencyId) &&
      (!q.procedureCode || d.procedureCode === q.procedureCode),
  );
}

function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  let i = 0;
  for (const x of it) {
    yield x;
    if (++i >= n) return;
  }
}

function* inBatches(records: Iterable<CountedRecord>, n: number): Generator<CountedRecord[]> {
  let batch: CountedRecord[] = [];
  for (const r of records) {
    batch.push(r);
    if (batch.length === n) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** The tables the counts read for each month of the window. */
const pathsOf = (q: SummaryQuery): string => monthsBetween(q.from, q.to).map((m) => countsPathFor(q, m)).join(', ');

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * Why the counts need a single writer: FerretDB 1.24 applies an update as
 * read, change in Go, write back, so concurrent updates of one document can
 * overwrite each other.
 */
async function concurrentUpdateCheck(client: MongoClient): Promise<string> {
  const coll = client.db('bench_compliance_check').collection<{ _id: string; n: number }>('counter');
  await coll.deleteMany({});
  await coll.insertOne({ _id: 'c', n: 0 });
  const writers = 200;
  await Promise.all(Array.from({ length: writers }, () => coll.updateOne({ _id: 'c' }, { $inc: { n: 1 } })));
  const n = (await coll.findOne({ _id: 'c' }))?.n;
  await client.db('bench_compliance_check').dropDatabase();
  return `FerretDB check: ${writers} concurrent \`$inc: {n: 1}\` on one document (each acknowledged) left n = ${n}${n === writers ? '' : ' (lost updates)'}`;
}

// ------------------------------------------------------------------ machine

function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  const bin = toolPaths().ferretdb;
  // Module versions from the binary itself when Go is there, else from the tools module it is built from.
  const mod = bin ? spawnSync('go', ['version', '-m', bin], { encoding: 'utf8' }) : null;
  const text = mod?.status === 0 ? mod.stdout : fs.readFileSync(path.join(REPO_ROOT, 'tools', 'ferretdb', 'go.mod'), 'utf8');
  const source = mod?.status === 0 ? 'go version -m' : 'tools/ferretdb/go.mod';
  const ver = (m: string) => new RegExp(`${m.replace(/[./]/g, '\\$&')}\\s+(v[\\w.-]+)`).exec(text)?.[1] ?? 'unknown';
  out.ferretdb = `${ver('github.com/FerretDB/FerretDB')} (${source})`;
  const sqliteMod = ver('modernc.org/sqlite');
  let sqlite = 'unknown';
  const gomodcache = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout?.trim();
  try {
    const lib = path.join(gomodcache || path.join(os.homedir(), 'go', 'pkg', 'mod'), `modernc.org/sqlite@${sqliteMod}`, 'lib', `sqlite_${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}.go`);
    sqlite = /const SQLITE_VERSION = "([^"]+)"/.exec(fs.readFileSync(lib, 'utf8'))?.[1] ?? 'unknown';
  } catch {
    // The module cache may be gone; the modernc version still identifies it.
  }
  out.sqlite = `${sqlite} (modernc.org/sqlite ${sqliteMod}, pure Go)`;
  return out;
}

function machine(): string[] {
  const cpus = os.cpus();
  return [
    `CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores (os.cpus)`,
    `RAM: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free at start`,
    `OS: ${os.type()} ${os.release()} ${os.arch()}`,
    ...Object.entries(versions()).map(([k, v]) => `${k === 'node' ? 'Node' : k === 'ferretdb' ? 'FerretDB' : 'SQLite'}: ${v}`),
    `Load average at start (1/5/15 min): ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`,
  ];
}

// ------------------------------------------------------------------- report

const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (x: number, base: number | undefined) => (base ? `${x / base >= 100 ? (x / base).toFixed(0) : (x / base).toFixed(1)}×` : '');
const num = (n: number) => n.toLocaleString('en');

function report(o: Options, header: string[], results: SizeResult[], startedAt: Date, totalMs: number, fatal: string | null): string {
  const out: string[] = [];
  out.push(
    '# Benchmarks',
    '',
    '## Compliance read model (issue #5)',
    '',
    '```sh',
    'npm run bench:compliance                                   # 10k, 100k and 1M records',
    'npm run bench:compliance -- --sizes=10000,100000 --runs=10  # a quick run',
    '```',
    '',
    'Options: `--sizes=` (comma-separated record counts), `--runs=` (measured runs, default 30), `--warmup=` (default 3),',
    '`--budget=` (seconds per measurement, default 60: a slow operation stops early, after at least one run),',
    '`--strategies=scan,aggregate,counts`, `--churn=` (changes for the exactness test, default 2000), `--batch=`',
    '(insertMany size, default 2000), `--out=` (this file), `--keep` (keep the temporary folder).',
    '',
    'A run of all three strategies takes about 1 h 40 min on the 2-core machine, most of it `scan` and `aggregate` at 1M',
    '(one `aggregate` call is ~13 min there: FerretDB\'s `$group` is quadratic in its groups). `--strategies=scan,counts`',
    'takes about 50 min, nearly all of it the `scan` measurements at 1M; `--strategies=counts` a quarter of that.',
    '',
    'The run starts its own FerretDB (the provisioned `.tools/bin/ferretdb`, SQLite backend) in a temporary folder and',
    'stops it at the end, on error too. For each size it seeds synthetic `deadlines` records (`bench/dataset.ts`:',
    'dues over 12 months, 20 agencies, 50 procedures, the four stages with their owners, 13 districts, ~89 % met on',
    'time, ~7 % late, ~3 % open, <1 % overdue) with `insertMany`, creates the indexes of `store/db.ts`, then measures:',
    '',
    `- the compliance summary for the month ${WINDOW.from}..${WINDOW.to} (~8.6 % of the records), default groupBy (agency) and`,
    '  groupBy=day, with three strategies:',
    '  - `scan`: `scanSummary` of `store/compliance.ts`, what the summary does until the counts are built (find with a projection, tally in code);',
    '  - `aggregate`: `$match` + `$group` with `$sum` in FerretDB (processing records also grouped by the fields',
    '    Decision 766\'s outcome reads, as there is no `$cond`), then the same `summarize()`;',
    '  - `counts`: `countsSummary` of `store/compliance-counts/`, what the summary reads once built: counts per due month',
    '    (whole month, day × stage, and per day), derived by a single aggregator from change records; the table used is named in each row. A window that is',
    '    not whole months (2026-03-02..2026-03-30) is measured too: it reads the month table less the excluded days;',
    '- the overdue list (limit 100) and the at-risk list (24 h from the dataset\'s "now"), from the records and from the counts\' list tables;',
    '- FerretDB\'s `explain` for those queries;',
    '- where the time goes: a find that returns nothing (the scan alone) and a find of just the window\'s documents;',
    '- the write path: the projection\'s version-guarded `replaceOne` and one by `_id` only;',
    '- for `counts`, exactness after concurrent duplicate, stale and out-of-order changes and a crashed aggregator;',
    '- once per run, whether concurrent updates of one document are all kept (why the counts have a single writer).',
    '',
    'Every latency is wall time as the client sees it, with its ratio to two baselines measured in the same run: a',
    '`ping` round trip and a single-document `_id` lookup on the same collection. "FerretDB CPU" is the server',
    'process\'s CPU time per call (from /proc), which moves much less than wall time when other processes compete',
    'for the cores.',
    '',
    '**Goal: summary p95 under 100 ms for a one-month window at 1M records.**',
    '',
    `Findings and recommendation: [docs/COMPLIANCE-PERFORMANCE.md](COMPLIANCE-PERFORMANCE.md).`,
    '',
    `### This run`,
    '',
    `Started ${startedAt.toISOString()}, took ${(totalMs / 60_000).toFixed(1)} min. Options: sizes ${o.sizes.map(num).join(', ')}; runs ${o.runs}, warm-up ${o.warmup}, budget ${o.budgetMs / 1000} s per measurement.`,
    '',
    ...header.map((h) => `- ${h}`),
    '- The machine is shared: other agents run test suites on the same 2 cores, so wall times carry contention. The load',
    '  average is printed per size; compare CPU columns and ratios rather than absolute times across runs.',
    '',
  );
  if (fatal) out.push(`**The run stopped early: ${fatal}**`, '');

  // The headline table: summary p95 per strategy and size.
  if (results.length) {
    out.push('### Summary latency at a glance (one-month window)', '', '| records | strategy | groupBy=agency p50 / p95 | groupBy=day p50 / p95 | goal p95 < 100 ms |', '|---:|---|---:|---:|---|');
    const cell = (x?: Row) => (x ? `${f1(x.m.p50)} / ${f1(x.m.p95)} ms (n=${x.m.n})` : '–');
    for (const r of results) {
      for (const s of STRATEGIES) {
        const a = r.rows.find((x) => x.op === 'summary groupBy=agency' && x.strategy.startsWith(s));
        const d = r.rows.find((x) => x.op === 'summary groupBy=day' && x.strategy.startsWith(s));
        if (!a && !d) continue;
        const ok = [a, d].every((x) => !x || x.m.p95 < 100);
        out.push(`| ${num(r.size)} | ${s} | ${cell(a)} | ${cell(d)} | ${ok ? 'met' : 'missed'} |`);
      }
      const p = r.rows.find((x) => x.op.startsWith('summary groupBy=agency, '));
      if (p) out.push(`| ${num(r.size)} | ${p.strategy.replace(/^counts \((.*) table\)$/, 'counts, window ' + p.op.split(', ')[1] + ' ($1)')} | ${cell(p)} | – | ${p.m.p95 < 100 ? 'met' : 'missed'} |`);
    }
    out.push('');
    out.push('### Lists at a glance', '', '| records | strategy | overdue, limit 100: p50 / p95 | at-risk, 24 h: p50 / p95 |', '|---:|---|---:|---:|');
    for (const r of results) {
      for (const s of ['scan', 'counts'] as const) {
        const ov = r.rows.find((x) => x.op === 'overdue list limit=100' && x.strategy.startsWith(s));
        const ar = r.rows.find((x) => x.op === 'at-risk list, 24 h' && x.strategy.startsWith(s));
        if (!ov && !ar) continue;
        out.push(`| ${num(r.size)} | ${s} | ${cell(ov)} (${num(ov?.returned ?? 0)} items) | ${cell(ar)} (${num(ar?.returned ?? 0)} items) |`);
      }
    }
    out.push('');
  }

  for (const r of results) {
    const ping = r.rows.find((x) => x.op === 'ping')?.m.p50;
    const idl = r.rows.find((x) => x.op === '_id lookup')?.m.p50;
    out.push(
      `### ${num(r.size)} records`,
      '',
      `- Seeding: ${num(r.size)} records in ${(r.seedMs / 1000).toFixed(1)} s, **${num(Math.round(r.size / (r.seedMs / 1000)))} records/s** (insertMany of ${o.batch}, only the \`_id\` index); \`ensureIndexes\` afterwards ${(r.indexMs / 1000).toFixed(1)} s.`,
      `- ${num(r.windowRecords)} records in the window, ${num(r.overdueRecords)} overdue in all.`,
      `- Load average (1 min) ${r.load[0].toFixed(2)} at the start of this size, ${r.load[1].toFixed(2)} at its end.`,
      ...r.notes.map((n) => `- ${n}`),
      '',
      '| operation | strategy | n | p50 ms | p95 ms | p50 × ping | p95 × ping | p50 × `_id` lookup | FerretDB CPU ms/call | client CPU ms/call | rows/docs returned |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const x of r.rows) {
      out.push(
        `| ${x.op} | ${x.strategy} | ${x.m.n}${x.m.warmupCut ? '*' : ''} | ${f1(x.m.p50)} | ${f1(x.m.p95)} | ${ratio(x.m.p50, ping)} | ${ratio(x.m.p95, ping)} | ${ratio(x.m.p50, idl)} | ${x.m.ferretCpu === null ? 'n/a' : f1(x.m.ferretCpu)} | ${f1(x.m.nodeCpu)} | ${x.returned === undefined ? '' : num(x.returned)} |`,
      );
    }
    out.push('', '`*` warm-up cut short: a warm-up call took more than a quarter of the budget, so the warm-up stopped there and the measured runs stopped once the budget was spent (at least one).', '');
    out.push(
      '**Query plans** (`explain`; FerretDB 1.24 reports the SQLite `EXPLAIN QUERY PLAN` and whether filter, sort and limit were pushed down to SQLite. It does not report documents examined: without filter pushdown every row is read and decoded by FerretDB, which then filters, sorts and limits in Go.)',
      '',
      '| query | SQLite plan | filter pushdown | sort pushdown | limit pushdown | rows SQLite reads | docs FerretDB decodes | returned | decoded per returned |',
      '|---|---|---|---|---|---|---|---:|---:|',
    );
    for (const p of r.plans) {
      const dec = p.decoded.startsWith('all') ? r.size : Number(p.decoded);
      out.push(
        `| ${p.query} | \`${p.plan}\` | ${p.filterPushdown} | ${p.sortPushdown} | ${p.limitPushdown} | ${p.sqliteRows} | ${p.decoded} | ${num(p.returned)} | ${p.returned ? f1(dec / p.returned) : '–'} |`,
      );
    }
    out.push('');
    if (r.exact.length) out.push('**Exactness**', '', ...r.exact.map((e) => `- ${e}`), '');
    if (r.churn.length) out.push('**Counts under churn** (duplicates, stale and out-of-order versions, moves, a crash mid-pass)', '', ...r.churn.map((e) => `- ${e}`), '');
  }
  return out.join('\n');
}

// --------------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const t0 = performance.now();
  const header = machine();
  const log = (s: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}`);
  header.forEach((h) => log(h));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-compliance-'));
  const ferret = await startFerretDB({ dataDir: path.join(dir, 'ferretdb'), logFile: path.join(dir, 'ferretdb.log') });
  ferretPid = ferret.pid;
  // A signal skips `finally` and the exit hook: stop FerretDB ourselves.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = true;
    log(`${sig}: stopping FerretDB, no report written`);
    void ferret.stop().finally(() => {
      if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const client = new MongoClient(ferret.uri, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 0 });
  const results: SizeResult[] = [];
  let fatal: string | null = null;
  try {
    await client.connect();
    log(`FerretDB pid ${ferret.pid} on ${ferret.uri}, data in ${dir}`);
    header.push(await concurrentUpdateCheck(client));
    log(header[header.length - 1]);
    for (const size of o.sizes) {
      log(`size ${num(size)}`);
      try {
        results.push(await runSize(client, o, size, log));
      } catch (err) {
        fatal = `size ${num(size)}: ${(err as Error).stack ?? String(err)}`;
        if (!interrupted) log(fatal);
        break;
      }
      // Written after each size, so a long run leaves its results behind.
      if (!interrupted) writeReport(o, header, results, startedAt, performance.now() - t0, null);
    }
  } finally {
    await client.close().catch(() => undefined);
    await ferret.stop();
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  if (interrupted) return;
  const text = writeReport(o, header, results, startedAt, performance.now() - t0, fatal);
  console.log(text);
  if (fatal) process.exitCode = 1;
}

function writeReport(o: Options, header: string[], results: SizeResult[], startedAt: Date, ms: number, fatal: string | null): string {
  const text = report(o, header, results, startedAt, ms, fatal);
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, `${text}\n`);
  return text;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
