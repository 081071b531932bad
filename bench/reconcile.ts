/**
 * bench:reconcile — the cost of one reconciliation batch against the size of
 * the read model (issue #10 item 2): the hour walk (store/reconcile.ts) and the
 * code-range batch it replaced (still run for a pass whose cursor is a code).
 *
 * For each size it seeds a fresh FerretDB (the provisioned, patched build) with
 * clones of the March scenario's six dossiers (test/support/domain-views.ts),
 * their deadline docs and list keys, submitted over the past year, then times
 * batches of 200 from a cursor in the middle of the data, of each kind; and the pass's last batch (the streams for orphans and dossiers
 * without a list hour), once per pass. The view source answers null (no
 * workflow), so a batch only reads: its cost is the read model's, not Temporal's.
 *
 *   BENCH_RECONCILE_SIZES=10000,100000  sizes (dossiers)
 *   BENCH_RECONCILE_RUNS=5              timed hour-walk batches per size
 *   BENCH_RECONCILE_CODE_RUNS=1         timed code-range batches per size
 *   BENCH_RECONCILE_LOCK=<file>         a file to hold with flock(1) while timing (not while seeding)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Db, type Document } from 'mongodb';
import * as referenceData from '../reference-data';
import { startFerretDB, toolPaths } from '../scripts/servers';
import { COLLECTIONS, ensureIndexes } from '../store/db';
import { listKeys, recordListDay } from '../store/dossier-list';
import { writeProjection } from '../store/read-model';
import { reconcileBatch, type ViewSource } from '../store/reconcile';
import { ReferenceData } from '../store/reference-data';
import { localDate } from '../domain/calendar';
import { marchScenario } from '../test/support/domain-views';
import { holdLock } from './lock';

const SIZES = (process.env.BENCH_RECONCILE_SIZES ?? '10000,100000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RECONCILE_RUNS ?? 5);
// The code-range batch reads the whole collection: minutes each at 100k.
const CODE_RUNS = Number(process.env.BENCH_RECONCILE_CODE_RUNS ?? 1);
const LOCK = process.env.BENCH_RECONCILE_LOCK;
const BATCH = 200;
const DAY = 86_400_000;
const noWorkflows: ViewSource = { view: async () => null };
const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

function remap(v: unknown, str: (s: string) => string, shiftMs: number): unknown {
  if (typeof v === 'string') return str(v);
  if (v instanceof Date) return new Date(v.getTime() - shiftMs);
  if (Array.isArray(v)) return v.map((x) => remap(x, str, shiftMs));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, remap(x, str, shiftMs)]));
  }
  return v;
}

async function seed(db: Db, size: number): Promise<number> {
  const t0 = performance.now();
  const templates: { code: string; dossier: Document; deadlines: Document[] }[] = [];
  for (const d of marchScenario()) {
    await writeProjection(db, d.view);
    const dossier = (await db.collection(COLLECTIONS.dossiers).findOne({ _id: d.view.code as never }))!;
    templates.push({ code: d.view.code, dossier, deadlines: await db.collection(COLLECTIONS.deadlines).find({ dossierCode: d.view.code }).toArray() });
  }
  await db.collection(COLLECTIONS.dossiers).deleteMany({});
  await db.collection(COLLECTIONS.deadlines).deleteMany({});
  const newest = Math.max(...templates.map((t) => (t.dossier.submittedAt as Date).getTime()));
  const days = new Set<string>();
  let dossiers: Document[] = [];
  let deadlines: Document[] = [];
  const flush = async () => {
    if (dossiers.length) await db.collection(COLLECTIONS.dossiers).insertMany(dossiers, { ordered: false });
    if (deadlines.length) await db.collection(COLLECTIONS.deadlines).insertMany(deadlines, { ordered: false });
    dossiers = [];
    deadlines = [];
  };
  for (let i = 0; i < size; i++) {
    const t = templates[i % templates.length]!;
    const code = `RC-${String(i).padStart(7, '0')}`;
    // Spread over the year before the scenario's newest dossier, the last ones newest.
    const shift = (t.dossier.submittedAt as Date).getTime() - newest + Math.round((365 * DAY * (size - i)) / size);
    const str = (x: string) => (x.includes(t.code) ? x.split(t.code).join(code) : x);
    const d = remap(t.dossier, str, shift) as Document;
    Object.assign(d, listKeys(d as Parameters<typeof listKeys>[0]));
    const day = localDate((d.submittedAt as Date).getTime());
    if (!days.has(day)) {
      days.add(day);
      await recordListDay(db, d.submittedAt as Date);
    }
    dossiers.push(d);
    for (const dl of t.deadlines) deadlines.push(remap(dl, str, shift) as Document);
    if (dossiers.length === 2000) await flush();
  }
  await flush();
  return performance.now() - t0;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const bin = toolPaths().ferretdb;
  if (!bin) throw new Error('FerretDB is not provisioned: run `npm run provision`');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-reconcile-'));
  const rows: string[] = [];
  try {
    for (const size of SIZES) {
      const ferret = await startFerretDB({ dataDir: path.join(root, `ferretdb-${size}`), bin, logFile: path.join(root, `ferretdb-${size}.log`) });
      const mongo = new MongoClient(ferret.uri);
      try {
        await mongo.connect();
        const db = mongo.db('bench_reconcile');
        await ensureIndexes(db);
        await new ReferenceData(db).seed(structuredClone(referenceData));
        const seedMs = await seed(db, size);
        log(`${size}: seeded in ${(seedMs / 1000).toFixed(0)} s`);
        // Cursors in the middle of the data: the middle dossier's code and its list hour.
        const middle = (await db.collection(COLLECTIONS.dossiers).findOne({ _id: `RC-${String(Math.floor(size / 2)).padStart(7, '0')}` as never }))!;
        const codeCursor = middle._id as unknown as string;
        const hourCursor = `hour:${middle.listHour as string}|${codeCursor}`;
        const release = await holdLock(LOCK);
        try {
          const hour: number[] = [];
          const code: number[] = [];
          const checked = { hour: 0, code: 0 };
          for (let r = 0; r < RUNS; r++) hour.push(await timed(async () => (checked.hour = (await reconcileBatch(db, noWorkflows, { after: hourCursor, batchSize: BATCH })).checked)));
          for (let r = 0; r < CODE_RUNS; r++) code.push(await timed(async () => (checked.code = (await reconcileBatch(db, noWorkflows, { after: codeCursor, batchSize: BATCH })).checked)));
          // Past the last hour of the last day: the walk finds nothing, so the batch is the streams.
          const lastDay = (await db.collection<{ _id: string }>(COLLECTIONS.dossierDays).find({}).toArray()).map((d) => d._id).sort().at(-1)!;
          const lastHour = `hour:${lastDay}T23|\uffff`;
          let endCounts = '';
          const end = await timed(async () => {
            const r = await reconcileBatch(db, noWorkflows, { after: lastHour, batchSize: BATCH });
            if (r.next !== null || r.checked !== 0) throw new Error(`the last batch was not the streams alone: ${JSON.stringify(r)}`);
            endCounts = `checked ${r.checked}, orphans ${r.orphans}`;
          });
          // What those streams read: every document of both collections.
          let streamed = 0;
          for await (const _ of db.collection(COLLECTIONS.dossiers).find({}, { projection: { _id: 1 } })) streamed++;
          for await (const _ of db.collection(COLLECTIONS.deadlines).find({}, { projection: { _id: 0, dossierCode: 1 } })) streamed++;
          log(`${size}: last batch ${endCounts}; the streams' documents: ${streamed}`);
          const line = `| ${size.toLocaleString('en')} | ${median(hour).toFixed(0)} (${checked.hour}) | ${code.length ? `${median(code).toFixed(0)} (${checked.code})` : 'not run'} | ${end.toFixed(0)} |`;
          log(line);
          rows.push(line);
        } finally {
          release();
        }
      } finally {
        await mongo.close();
        await ferret.stop();
      }
    }
    console.log(['', `bench:reconcile, ${new Date().toISOString()}, ${os.cpus().length} cores, Node ${process.version}, hour walk ${RUNS} runs, code range ${CODE_RUNS} (median)`, '| dossiers | hour-walk batch ms (dossiers checked) | code-range batch ms (checked) | last batch (streams) ms |', '|--:|--:|--:|--:|', ...rows].join('\n'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('bench:reconcile failed:', err);
  process.exit(1);
});
