/**
 * bench:reconcile — the cost of one reconciliation batch against the size of
 * the read model (issue #10 item 2): the hour walk (store/reconcile.ts) and the
 * code-range batch it replaced (still run for a pass whose cursor is a code).
 *
 * For each size it seeds a fresh FerretDB (the provisioned, patched build) with
 * clones of the March scenario's six dossiers (test/support/domain-views.ts),
 * their deadline docs, list keys and day and hour records, submitted over the
 * past year, then times batches of 200 from a cursor in the middle of the
 * data: the hour walk over the recorded hours, the same batch with every day
 * read as a day recorded before hours were (all 24 hours, what the walk did
 * before), and the code-range batch; then the pass's last batch (its last 100
 * dossiers), the two whole-collection streams the last batch used to run (the
 * in-run baseline for it), and optionally a whole pass. The view source
 * answers null (no workflow), so a batch only reads: its cost is the read
 * model's, not Temporal's.
 *
 *   BENCH_RECONCILE_SIZES=1000,10000,100000  sizes (dossiers)
 *   BENCH_RECONCILE_RUNS=5                   timed batches per size, each kind but the code range
 *   BENCH_RECONCILE_CODE_RUNS=1              timed code-range batches per size (minutes each at 100k)
 *   BENCH_RECONCILE_PASS_MAX=100000          time a whole pass up to this size
 *   BENCH_RECONCILE_LOCK=<file>              a file to hold with flock(1) while timing (not while seeding)
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
import { marchScenario } from '../test/support/domain-views';
import { holdLock } from './lock';

const SIZES = (process.env.BENCH_RECONCILE_SIZES ?? '1000,10000,100000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RECONCILE_RUNS ?? 5);
// The code-range batch reads the whole collection: minutes each at 100k.
const CODE_RUNS = Number(process.env.BENCH_RECONCILE_CODE_RUNS ?? 1);
const PASS_MAX = Number(process.env.BENCH_RECONCILE_PASS_MAX ?? 100_000);
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
    // Once an hour per handle, as the projection writes them.
    await recordListDay(db, d.submittedAt as Date);
    dossiers.push(d);
    for (const dl of t.deadlines) deadlines.push({ ...(remap(dl, str, shift) as Document), listHour: d.listHour as string });
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
        // The cursor of the pass's last batch: its last 100 dossiers (the newest, the highest codes).
        const tail = (await db.collection(COLLECTIONS.dossiers).findOne({ _id: `RC-${String(size - 101).padStart(7, '0')}` as never }))!;
        const tailCursor = `hour:${tail.listHour as string}|${tail._id as unknown as string}`;
        const hoursRecorded = await db.collection(COLLECTIONS.dossierHours).countDocuments();
        const daysRecorded = await db.collection(COLLECTIONS.dossierDays).countDocuments();
        const release = await holdLock(LOCK);
        try {
          const batch = async (after: string) => reconcileBatch(db, noWorkflows, { after, batchSize: BATCH });
          const hour: number[] = [];
          const legacy: number[] = [];
          const code: number[] = [];
          const last: number[] = [];
          const checked = { hour: 0, legacy: 0, code: 0, last: 0 };
          for (let r = 0; r < RUNS; r++) hour.push(await timed(async () => (checked.hour = (await batch(hourCursor)).checked)));
          // The days as a version before the hour records left them: all 24 hours of each read.
          await db.collection(COLLECTIONS.dossierDays).updateMany({}, { $unset: { hours: '' } });
          for (let r = 0; r < RUNS; r++) legacy.push(await timed(async () => (checked.legacy = (await batch(hourCursor)).checked)));
          await db.collection(COLLECTIONS.dossierDays).updateMany({}, { $set: { hours: true } });
          for (let r = 0; r < CODE_RUNS; r++) code.push(await timed(async () => (checked.code = (await batch(codeCursor)).checked)));
          for (let r = 0; r < RUNS; r++) {
            last.push(
              await timed(async () => {
                const res = await batch(tailCursor);
                if (res.next !== null) throw new Error(`the last batch was not the last: ${JSON.stringify(res)}`);
                checked.last = res.checked;
              }),
            );
          }
          // What the last batch used to read instead: a stream of each whole collection.
          let streamed = 0;
          const streams = await timed(async () => {
            for await (const _ of db.collection(COLLECTIONS.dossiers).find({}, { projection: { _id: 1, listHour: 1 } })) streamed++;
            for await (const _ of db.collection(COLLECTIONS.deadlines).find({}, { projection: { _id: 0, dossierCode: 1 } })) streamed++;
          });
          let pass = '';
          if (size <= PASS_MAX) {
            let batches = 0;
            let passChecked = 0;
            const ms = await timed(async () => {
              for (let after: string | null = null; ; ) {
                const r = await reconcileBatch(db, noWorkflows, { after, batchSize: BATCH });
                batches++;
                passChecked += r.checked;
                if (r.next === null) break;
                after = r.next;
              }
            });
            if (passChecked !== size) throw new Error(`the pass checked ${passChecked} of ${size} dossiers`);
            pass = `${(ms / 1000).toFixed(1)} s (${batches} batches)`;
          }
          log(`${size}: ${daysRecorded} days, ${hoursRecorded} hours recorded; the streams' documents: ${streamed}`);
          const line = [
            size.toLocaleString('en'),
            `${hoursRecorded} of ${daysRecorded * 24}`,
            `${median(hour).toFixed(0)} (${checked.hour})`,
            `${median(legacy).toFixed(0)} (${checked.legacy})`,
            code.length ? `${median(code).toFixed(0)} (${checked.code})` : 'not run',
            `${median(last).toFixed(0)} (${checked.last})`,
            `${streams.toFixed(0)} (${streamed} docs)`,
            pass || 'not run',
          ].join(' | ');
          log(`| ${line} |`);
          rows.push(`| ${line} |`);
        } finally {
          release();
        }
      } finally {
        await mongo.close();
        await ferret.stop();
      }
    }
    console.log(
      [
        '',
        `bench:reconcile, ${new Date().toISOString()}, ${os.cpus().length} cores, Node ${process.version}, ${RUNS} runs per batch kind (median), code range ${CODE_RUNS}`,
        '| dossiers | hours recorded | hour-walk batch ms (checked) | same, all 24 hours a day ms (checked) | code-range batch ms (checked) | last batch ms (checked) | the old last batch\'s streams ms | whole pass |',
        '|--:|--:|--:|--:|--:|--:|--:|--:|',
        ...rows,
      ].join('\n'),
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('bench:reconcile failed:', err);
  process.exit(1);
});
