/**
 * The read model at a city's scale (issue #10): `npm run bench:scale`.
 *
 * For each size it starts a FerretDB in a temporary folder, the API, a worker
 * and the sandbox payment gateway (one Temporal dev server for the run), runs
 * a few template dossiers through the real API, then clones what the workflow
 * wrote for them (dossier, deadlines, courier jobs, ledger, outbox) in bulk to
 * the size, spread over a year and 40 agencies. Then it measures through the
 * real API and worker, next to the in-run baselines `/healthz`, a Mongo
 * `ping` and Temporal's own floor (an update-with-start and an update of a
 * workflow that does nothing else, on the same server and worker):
 * submission (201, which waits for the first projection), GET by code, an
 * event's 200 (which waits for its projection), list pages, courier jobs,
 * the compliance summary, and projection lag (a 201 until the effect-driven
 * projection that assigns the courier job is readable), with where a
 * submission's time went read from its workflow's history.
 *
 * Environment: BENCH_SCALE_SIZES (default 10000,100000,500000),
 * BENCH_SCALE_STOCK_SIZES (sizes also run on the unpatched FerretDB build,
 * default 10000,100000; empty for none), BENCH_SCALE_RUNS (default 40),
 * BENCH_SCALE_BUDGET (seconds per measurement, default 60),
 * BENCH_SCALE_OUT (default docs/BENCHMARKS.md), BENCH_SCALE_KEEP=1, BENCH_SCALE_COUNTS=0
 * (do not build the compliance counts from the seeded records: the summary then scans).
 */
import { spawnSync } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal as temporalProto } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { MongoClient, type Db, type Document } from 'mongodb';
import pino from 'pino';
import * as referenceData from '../reference-data';
import { ensureCountsAggregator } from '../clients/dossiers';
import { createApp } from '../api/app';
import { signToken } from '../api/auth';
import { dueDay, formatInstant } from '../domain/calendar';
import type { Role } from '../domain/types';
import { startPaymentSandbox } from '../sandbox/payment-gateway';
import { REPO_ROOT, startFerretDB, startTemporalDevServer, toolPaths, type RunningServer } from '../scripts/servers';
import { COUNTS_COLLECTIONS, countsReady, requestCountsVerification } from '../store/compliance-counts';
import { COLLECTIONS, ensureIndexes } from '../store/db';
import { listKeys, recordListDay } from '../store/dossier-list';
import { homeSubmission } from '../reference-data/example-submissions';
import { ReferenceData } from '../store/reference-data';
import { createDossierWorker } from '../workers/worker';
import { holdLock } from './lock';
import { baselineRegisteredUpdate, platformLifecycle, platformStepUpdate } from './lifecycle/workflows';

const EventType = temporalProto.api.enums.v1.EventType;
type EventType = temporalProto.api.enums.v1.EventType;

const sizesOf = (v: string | undefined, d: string) =>
  (v ?? d)
    .split(',')
    .map((s) => Number(s.replace(/_/g, '')))
    .filter((n) => Number.isInteger(n) && n > 0);
const SIZES = sizesOf(process.env.BENCH_SCALE_SIZES, '10000,100000,500000');
const STOCK_SIZES = sizesOf(process.env.BENCH_SCALE_STOCK_SIZES, '10000,100000');
const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 40);
const BUDGET_MS = Number(process.env.BENCH_SCALE_BUDGET ?? 60) * 1000;
const OUT = path.resolve(process.env.BENCH_SCALE_OUT ?? path.join(REPO_ROOT, 'docs', 'BENCHMARKS.md'));
/** BENCH_SCALE_SEED_ONLY=1: seed each size into a kept folder and stop; BENCH_SCALE_REUSE=<that run's folder> measures it later. */
const SEED_ONLY = process.env.BENCH_SCALE_SEED_ONLY === '1';
const REUSE = process.env.BENCH_SCALE_REUSE;
const KEEP = process.env.BENCH_SCALE_KEEP === '1' || SEED_ONLY;
/** BENCH_SCALE_LOCK: a file to hold with flock(1) during each measured phase only (not while seeding). */
const LOCK = process.env.BENCH_SCALE_LOCK;
/** BENCH_SCALE_COUNTS=0 skips building the counts (one pass over every record): the summary then scans. */
const BUILD_COUNTS = process.env.BENCH_SCALE_COUNTS !== '0';
const SECRET = 'bench-scale-secret-of-at-least-32-characters';
const DAY = 86_400_000;
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * Courier staff in proportion to the volume, as a post office staffs its rounds:
 * one courier per 12,000 dossiers a year. A third of the recent dossiers are
 * home pickups, so a courier takes ~11 pickups a working day and holds ~30 open
 * jobs (three days' worth) at every size; the measured courier is one of them.
 */
const DOSSIERS_PER_COURIER = 12_000;
const couriersFor = (size: number) => Math.max(1, Math.round(size / DOSSIERS_PER_COURIER));
/** The seeded couriers' ids; the first is the one measured. */
const courierId = (n: number) => `HL-BT${String(n + 1).padStart(2, '0')}`;
const AGENCIES = ['HL-TNMT', 'HL-UBND', 'QN-STP', 'CP-UBND', ...Array.from({ length: 36 }, (_, i) => `HL-P${String(i + 1).padStart(2, '0')}`)];

const log = (m: string) => console.log(`bench:scale ${new Date().toISOString().slice(11, 19)} ${m}`);

// -------------------------------------------------------------- measurement

interface Measure {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

function summarize(xs: number[]): Measure {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) };
}

/** What a measured call returns when only part of it is the request: that part's duration. */
const requestTook = (elapsedMs: number) => ({ elapsedMs });
const timed = (r: unknown) => (r && typeof r === 'object' && 'elapsedMs' in r && typeof r.elapsedMs === 'number' ? r.elapsedMs : undefined);

/** 3 warm-up calls, then `RUNS` measured ones, or fewer when the budget runs out (at least one). */
async function measure(fn: (i: number) => Promise<unknown>, runs = RUNS): Promise<Measure> {
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await fn(-1 - i);
    if (performance.now() - t0 > BUDGET_MS / 4) break;
  }
  const xs: number[] = [];
  const start = performance.now();
  while (xs.length < runs && (xs.length === 0 || performance.now() - start < BUDGET_MS)) {
    const t0 = performance.now();
    const r = await fn(xs.length);
    // A call that measures more than its request (the projection lag after a submission) says how long the request took.
    xs.push(timed(r) ?? performance.now() - t0);
  }
  return summarize(xs);
}

// ------------------------------------------------------------------ system

interface System {
  ferret: RunningServer & { uri: string };
  taskQueue: string;
  mongo: MongoClient;
  db: Db;
  base: string;
  close(): Promise<void>;
}

/** One Temporal connection pair for the whole run: a size's system closes only what is its own. */
interface TemporalSide {
  native: NativeConnection;
  temporal: Client;
  bundlePath: string;
}

async function startSystem(t: TemporalSide, dir: string, bin: string): Promise<System> {
  const ferret = await startFerretDB({ dataDir: path.join(dir, 'ferretdb'), bin, logFile: path.join(dir, 'ferretdb.log') });
  const mongo = new MongoClient(ferret.uri);
  await mongo.connect();
  const db = mongo.db('bench_scale');
  await ensureIndexes(db);
  await new ReferenceData(db).seed(structuredClone(referenceData));
  const gateway = await startPaymentSandbox({});
  const taskQueue = `bench-scale-${path.basename(dir)}`;
  const { native, temporal, bundlePath } = t;
  const countsAggregator = { workflowId: `compliance-counts-${taskQueue}`, taskQueue, passIntervalMs: 1000 };
  const worker: Worker = await createDossierWorker({
    connection: native,
    namespace: 'default',
    taskQueue,
    db,
    paymentGatewayUrl: gateway.url,
    workflowBundle: { codePath: bundlePath },
    temporal,
    countsAggregator,
  });
  const running = worker.run();
  await ensureCountsAggregator(temporal, countsAggregator);
  const app = createApp({ temporal, db, jwtSecret: SECRET, taskQueue, settings: { supplementRule: 'restart', classOneProvinces: [] }, log: pino({ level: 'silent' }) });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ferret,
    taskQueue,
    mongo,
    db,
    base,
    async close() {
      await temporal.workflow.getHandle(countsAggregator.workflowId).terminate('bench done').catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      worker.shutdown();
      // Stopping FerretDB first fails the activities still waiting on it (the stock build's
      // projections), so the worker's drain does not wait for them.
      await mongo.close();
      await ferret.stop();
      await Promise.race([running.catch(() => undefined), new Promise((r) => setTimeout(r, 30_000))]);
      await gateway.close();
    },
  };
}

const token = (role: Role, extra: { agencyId?: string; courierId?: string } = {}) => signToken(SECRET, { sub: `${role}-bench`, role, ...extra });

async function call(base: string, method: string, p: string, auth: string, body?: unknown): Promise<{ status: number; body: Document; location: string | null }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${auth}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Document) : {}, location: res.headers.get('location') };
}

async function expectStatus(p: Promise<{ status: number; body: Document }>, status: number, what: string): Promise<Document> {
  const r = await p;
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
}

/** Submissions answered 202 (accepted, registration pending) and then polled until registered. */
let accepted = 0;

/**
 * A submission until its dossier is registered: a 201, or a 202 (the worker did
 * not register it within the API's wait) followed by polling its Location
 * until the dossier is there. Returns the registered view.
 */
async function submit(base: string, auth: string, body: unknown): Promise<Document> {
  const r = await call(base, 'POST', '/v1/dossiers', auth, body);
  if (r.status === 201) return r.body;
  if (r.status !== 202 || !r.location) throw new Error(`submission: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  accepted++;
  const until = performance.now() + REQUEST_TIMEOUT_MS;
  while (performance.now() < until) {
    await new Promise((res) => setTimeout(res, 50));
    const g = await call(base, 'GET', r.location, auth);
    if (g.status === 200) return g.body;
    if (g.status !== 404) throw new Error(`submission's Location: ${g.status} ${JSON.stringify(g.body).slice(0, 300)}`);
  }
  throw Object.assign(new Error('submission: 202, not registered within 30 s'), { name: 'TimeoutError' });
}

let codeSeq = 0;
const nextHomeSubmission = () => homeSubmission(`BS-${process.pid}-${++codeSeq}`);
const counterSubmission = () => ({
  code: `BS-${process.pid}-${++codeSeq}`,
  procedureCode: '2.000720',
  agencyId: 'HL-UBND',
  applicant: { fullName: 'Trần Thị Mai', idNumber: '022080005678', phone: '0987654321' },
  services: { collect: false, deliver: true },
  delivery: { method: 'counter' },
  payment: { method: 'cash' },
});

// ------------------------------------------------------------------ seeding

type Template = { code: string; agencyId: string; courierId: string | null; docs: Record<string, Document[]> };
const SEEDED = [COLLECTIONS.dossiers, COLLECTIONS.deadlines, COLLECTIONS.courierJobs, COLLECTIONS.ledger, COLLECTIONS.outbox];

/** Three dossiers as the workflow leaves them: waiting for pickup, in processing, and completed. */
async function makeTemplates(s: System): Promise<Template[]> {
  const portal = token('portal');
  const agency = token('agency', { agencyId: 'HL-UBND' });
  const home = nextHomeSubmission();
  await submit(s.base, portal, home);
  const processing = counterSubmission();
  await submit(s.base, portal, processing);
  await expectStatus(call(s.base, 'POST', `/v1/dossiers/${processing.code}/events`, agency, { type: 'agency.received' }), 200, 'template event');
  const done = counterSubmission();
  await submit(s.base, portal, done);
  await expectStatus(call(s.base, 'POST', `/v1/dossiers/${done.code}/events`, agency, { type: 'agency.received' }), 200, 'template event');
  await expectStatus(call(s.base, 'POST', `/v1/dossiers/${done.code}/events`, agency, { type: 'agency.completed', outcome: 'approved' }), 200, 'template event');
  await new Promise((r) => setTimeout(r, 3000)); // effects (courier job, notifications) settle
  const out: Template[] = [];
  for (const t of [home, processing, done]) {
    const docs: Record<string, Document[]> = {};
    for (const c of SEEDED) docs[c] = await s.db.collection(c).find(c === COLLECTIONS.dossiers ? { _id: t.code as never } : { dossierCode: t.code }).toArray();
    const job = docs[COLLECTIONS.courierJobs].find((j) => typeof j.courierId === 'string');
    out.push({ code: t.code, agencyId: t.agencyId, courierId: job ? (job.courierId as string) : null, docs });
  }
  return out;
}

function remap(v: unknown, str: (s: string) => string, shiftMs: number): unknown {
  if (typeof v === 'string') return str(v);
  if (v instanceof Date) return new Date(v.getTime() - shiftMs);
  if (Array.isArray(v)) return v.map((x) => remap(x, str, shiftMs));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o: Document = {};
    for (const [k, x] of Object.entries(v)) o[k] = remap(x, str, shiftMs);
    return o;
  }
  return v;
}

/**
 * Clones the templates to `size` dossiers, submitted over the past year (older
 * ones completed, recent ones in every state), round robin over 40 agencies
 * and over the couriers (couriersFor); courier jobs older than three days are done.
 */
async function seed(db: Db, templates: Template[], size: number): Promise<number> {
  const t0 = performance.now();
  const batch: Record<string, Document[]> = Object.fromEntries(SEEDED.map((c) => [c, []]));
  const flush = async () => {
    for (const c of SEEDED) {
      if (batch[c].length) await db.collection(c).insertMany(batch[c], { ordered: false });
      batch[c] = [];
    }
  };
  const couriers = couriersFor(size);
  for (let i = 0; i < size; i++) {
    const ageDays = (365 * (size - i)) / size; // the last ones are the newest
    const t = templates[ageDays > 20 ? 2 : i % 3];
    const code = `SC-${String(i).padStart(7, '0')}`;
    const agency = AGENCIES[i % AGENCIES.length];
    const shift = Math.round(ageDays * DAY);
    const courier = courierId(Math.floor(i / 3) % couriers);
    const str = (x: string) => (x === t.agencyId ? agency : x === t.courierId ? courier : x.includes(t.code) ? x.split(t.code).join(code) : x);
    for (const c of SEEDED) {
      for (const doc of t.docs[c]) {
        const d = remap(doc, str, shift) as Document;
        // The view as text (store/documents.ts StoredDossierDoc): remapped as the document it holds.
        if (typeof doc.viewJson === 'string') d.viewJson = JSON.stringify(remap(JSON.parse(doc.viewJson), str, shift));
        if (c === COLLECTIONS.deadlines && d.dueAt instanceof Date) {
          d.dueDay = dueDay(formatInstant(d.dueAt.getTime()));
          d.dueMonth = (d.dueDay as string).slice(0, 7);
        }
        if (c === COLLECTIONS.dossiers) {
          Object.assign(d, listKeys(d as Parameters<typeof listKeys>[0]));
          // Its day and hour, once each per handle, as the projection records them.
          await recordListDay(db, d.submittedAt as Date);
        }
        if (c === COLLECTIONS.courierJobs && ageDays > 3 && d.status === 'open') {
          d.status = 'done';
          delete d.openCourierId;
        }
        batch[c].push(d);
      }
    }
    if (batch[COLLECTIONS.dossiers].length === 2000) await flush();
    if (i % 50_000 === 49_999) log(`  seeded ${i + 1}`);
  }
  await flush();
  return performance.now() - t0;
}

/** Rebuilds the compliance counts from the seeded records (one aggregator pass over them all). */
async function buildCounts(db: Db): Promise<number | null> {
  const t0 = performance.now();
  await requestCountsVerification(db, 'bench:scale seeded');
  const until = Date.now() + 30 * 60_000;
  while (Date.now() < until) {
    const asked = await db.collection(COUNTS_COLLECTIONS.requests).find({}).limit(1).toArray();
    if (!asked.length && (await countsReady(db))) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
  }
  return null;
}

// ------------------------------------------------------------------- a size

type Row = { label: string; m: Measure | null; note?: string };
interface SizeResult {
  build: 'patched' | 'stock';
  size: number;
  seedMs: number;
  countsMs: number | null;
  rows: Row[];
}

/** A size seeded by an earlier run (BENCH_SCALE_SEED_ONLY=1), in `root`. */
function seededDir(root: string, build: string, size: number): { dir: string; seedMs: number; countsMs: number | null } | null {
  for (const name of fs.readdirSync(root)) {
    const file = path.join(root, name, 'seeded.json');
    if (name.startsWith(`${build}-${size}-`) && fs.existsSync(file)) return { dir: path.join(root, name), ...(JSON.parse(fs.readFileSync(file, 'utf8')) as { seedMs: number; countsMs: number | null }) };
  }
  return null;
}

async function runSize(build: 'patched' | 'stock', bin: string, size: number, t: TemporalSide, root: string): Promise<SizeResult | null> {
  const reused = REUSE ? seededDir(REUSE, build, size) : null;
  if (REUSE && !reused) throw new Error(`no seeded ${build} ${size} in ${REUSE}`);
  const dir = reused?.dir ?? fs.mkdtempSync(path.join(root, `${build}-${size}-`));
  log(`${build} build, ${size} dossiers: starting${reused ? ` on the data seeded in ${dir}` : ''}`);
  const s = await startSystem(t, dir, bin);
  try {
    let seedMs: number;
    let countsMs: number | null;
    if (reused) ({ seedMs, countsMs } = reused);
    else {
      const templates = await makeTemplates(s);
      seedMs = await seed(s.db, templates, size);
      log(`  seeded in ${(seedMs / 1000).toFixed(0)} s; building the compliance counts`);
      countsMs = BUILD_COUNTS ? await buildCounts(s.db) : null;
      fs.writeFileSync(path.join(dir, 'seeded.json'), JSON.stringify({ seedMs, countsMs }));
      if (SEED_ONLY) {
        log(`  seeded into ${dir} (BENCH_SCALE_SEED_ONLY=1)`);
        return null;
      }
    }
    log(`  counts ${!BUILD_COUNTS ? 'not built (BENCH_SCALE_COUNTS=0)' : countsMs === null ? 'not built in 30 min' : `built in ${(countsMs / 1000).toFixed(0)} s`}; measuring${LOCK ? ` once ${LOCK} is free` : ''}`);
    const release = await holdLock(LOCK);
    try {
      const rows: Row[] = [];
      const manager = token('manager');
      const portal = token('portal');
      const agency = token('agency', { agencyId: 'HL-UBND' });
      const courier = token('courier', { courierId: courierId(0) });
      const openJobs = (await s.db.collection(COLLECTIONS.courierJobs).find({ openCourierId: courierId(0) }, { projection: { _id: 1 } }).toArray()).length;
      const randomCode = () => `SC-${String(Math.floor(Math.random() * size)).padStart(7, '0')}`;
      // A request that fails or passes the client's timeout ends its row, noted in the report.
      const row = async (label: string, fn: (i: number) => Promise<unknown>, runs?: number, note?: string) => {
        try {
          const m = await measure(fn, runs);
          rows.push({ label, m, note });
          log(`  ${label}: p50 ${m.p50.toFixed(1)} ms, p95 ${m.p95.toFixed(1)} ms (n=${m.n})`);
        } catch (err) {
          const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : String((err as Error).message ?? err).slice(0, 120);
          rows.push({ label, m: null, note: `failed: ${why}` });
          log(`  ${label}: failed: ${why}`);
        }
      };

      await row('baseline: GET /healthz', () => fetch(`${s.base}/healthz`).then((r) => r.text()));
      await row('baseline: Mongo ping', () => s.db.command({ ping: 1 }));
      // Temporal's floor for the two workflow-backed requests, on the same server, worker and task queue:
      // a workflow with no activity, timer or search attribute, its updates answered in the task that takes them.
      const floorSteps = RUNS + 10;
      const floorIds: string[] = [];
      await row('baseline: Temporal update-with-start, answered in the first task', async () => {
        const workflowId = `floor-${process.pid}-${++codeSeq}`;
        const start = new WithStartWorkflowOperation(platformLifecycle, { workflowId, taskQueue: s.taskQueue, args: [floorSteps], workflowIdConflictPolicy: 'FAIL' });
        await t.temporal.workflow.executeUpdateWithStart(baselineRegisteredUpdate, { startWorkflowOperation: start });
        floorIds.push(workflowId);
      });
      const floorRun = t.temporal.workflow.getHandle(floorIds[0]!);
      let floorStep = 0;
      await row('baseline: Temporal update on a running workflow, answered at once', () => floorRun.executeUpdate(platformStepUpdate, { args: [++floorStep] }), Math.min(RUNS, floorSteps - 3));
      await Promise.all(floorIds.map((id) => t.temporal.workflow.getHandle(id).terminate('bench: floor measured').catch(() => undefined)));
      await row('GET /v1/dossiers/{code}', () => expectStatus(call(s.base, 'GET', `/v1/dossiers/${randomCode()}`, manager), 200, 'GET by code'));

      // Submissions: counter ones are then used for the events, home ones for the projection lag.
      const counter: string[] = [];
      const lags: number[] = [];
      const answered: Answered[] = [];
      await row('POST /v1/dossiers (201 with the first projection, or 202 polled until registered)', async (i) => {
        const body = i % 2 === 0 ? counterSubmission() : nextHomeSubmission();
        const sent = performance.now();
        const sentAt = Date.now();
        const view = await submit(s.base, portal, body);
        const took = requestTook(performance.now() - sent);
        if (i >= 0) answered.push({ code: body.code, sentAt, answeredAt: Date.now() });
        if (i % 2 === 0) counter.push(body.code);
        else {
          // Projection lag: the 201 until the courier job the workflow assigns next is in the read model.
          const t0 = performance.now();
          const coll = s.db.collection(COLLECTIONS.dossiers);
          while (performance.now() - t0 < 30_000) {
            const doc = await coll.findOne({ _id: body.code as never }, { projection: { version: 1 } });
            if (doc && (doc.version as number) > (view.version as number)) break;
            await new Promise((r) => setTimeout(r, 5));
          }
          lags.push(performance.now() - t0);
        }
        return took;
      }, RUNS * 2);
      if (accepted) rows[rows.length - 1].note = `${accepted} answered 202 and were polled until registered`;
      accepted = 0;
      rows.push(...(await submissionPhases(t.temporal, answered)));
      rows.push({ label: 'projection lag (201 → next projection readable)', m: lags.length ? summarize(lags) : null, note: lags.length ? undefined : 'no submission succeeded' });
      let next = 0;
      if (!counter.length) counter.push(randomCode());
      await row('POST /v1/dossiers/{code}/events (200, projection written)', async () => {
        const code = counter[next++ % counter.length];
        await expectStatus(call(s.base, 'POST', `/v1/dossiers/${code}/events`, agency, { type: 'agency.received', eventId: `${code}-rcv` }), 200, 'event');
      }, Math.min(RUNS, counter.length));
      // A list page that answers fast but short is no figure: the pages must be full.
    const fullPage = async (p: string, auth: string) => {
      const body = await expectStatus(call(s.base, 'GET', p, auth), 200, 'list');
      if ((body.items as unknown[]).length !== 50) throw new Error(`list: ${(body.items as unknown[]).length} items, 50 expected`);
    };
    await row('GET /v1/dossiers?agencyId=HL-TNMT&limit=50', () => fullPage('/v1/dossiers?agencyId=HL-TNMT&limit=50', manager), undefined, `${Math.ceil(size / AGENCIES.length)} dossiers match`);
      await row('GET /v1/dossiers?status=processing&limit=50 (agency role)', () => expectStatus(call(s.base, 'GET', '/v1/dossiers?status=processing&limit=50', agency), 200, 'list'));
      await row('GET /v1/dossiers?limit=50 (no filter)', () => fullPage('/v1/dossiers?limit=50', manager), Math.min(RUNS, 10));
      await row('GET /v1/courier/jobs', () => expectStatus(call(s.base, 'GET', '/v1/courier/jobs', courier), 200, 'courier jobs'), undefined, `${openJobs} open jobs, one of ${couriersFor(size)} couriers`);
      const month = formatInstant(Date.now()).slice(0, 7);
      await row(`GET /v1/compliance/summary (one month)`, () => expectStatus(call(s.base, 'GET', `/v1/compliance/summary?from=${month}-01&to=${month}-28`, manager), 200, 'summary'), undefined, !BUILD_COUNTS ? 'counts of the API-sent dossiers only, seeded ones not counted' : countsMs === null ? 'counts not built: scans the records' : 'from the compliance counts');
      log(`  measured`);
      return { build, size, seedMs, countsMs, rows };
    } finally {
      release();
    }
  } finally {
    await s.close();
    if (!KEEP && !reused) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A measured submission: its code, when it was sent and when its answer came (epoch ms, this machine's clock). */
type Answered = { code: string; sentAt: number; answeredAt: number };

/**
 * Where a submission's time went, from its workflow's history (the server stamps each event with the
 * same clock): the request until the workflow started, until a worker picked up the first workflow
 * task, that task in the worker (registration, the first projection and whatever else the task ran
 * before it completed), and the task's completion until the client had the answer.
 */
async function submissionPhases(temporal: Client, answered: Answered[]): Promise<Row[]> {
  const phases: Record<string, number[]> = { started: [], pickedUp: [], inWorker: [], answer: [], events: [], localActivities: [] };
  for (const a of answered) {
    const history = await temporal.workflow.getHandle(`dossier-${a.code}`).fetchHistory().catch(() => null);
    const events = history?.events ?? [];
    const at = (type: EventType) => events.find((e) => e.eventType === type);
    const ms = (e: (typeof events)[number] | undefined) => (e?.eventTime ? tsToMs(e.eventTime) : NaN);
    const started = at(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    const scheduled = at(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    const taskStarted = at(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    const completed = at(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    if (!started || !completed) continue;
    const firstTask = events.filter((e) => Number(e.eventId) > Number(completed.eventId));
    const end = firstTask.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    const commands = end < 0 ? firstTask : firstTask.slice(0, end);
    phases.started.push(ms(started) - a.sentAt);
    phases.pickedUp.push(ms(taskStarted) - ms(scheduled));
    phases.inWorker.push(ms(completed) - ms(taskStarted));
    phases.answer.push(a.answeredAt - ms(completed));
    phases.events.push(Number(completed.eventId) + commands.length);
    phases.localActivities.push(commands.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length);
  }
  const label = (what: string) => `  submission's history: ${what}`;
  const row = (what: string, xs: number[], note?: string): Row => ({ label: label(what), m: xs.length ? summarize(xs) : null, note: note ?? (xs.length ? undefined : 'no history read') });
  return [
    row('request → workflow started', phases.started),
    row('first workflow task: scheduled → picked up', phases.pickedUp),
    row('first workflow task in the worker', phases.inWorker, phases.events.length ? `history events to its end p50 ${summarize(phases.events).p50}, local activities in it p50 ${summarize(phases.localActivities).p50}` : undefined),
    row('task completed → 201 at the client', phases.answer),
  ];
}

// ------------------------------------------------------------------- report

function stockBinary(): string | null {
  const bin = path.join(REPO_ROOT, '.tools', 'bin', 'ferretdb-stock');
  if (fs.existsSync(bin)) return bin;
  // The same tools module without the patch: from the module cache, offline.
  const r = spawnSync('go', ['build', '-o', bin, '.'], {
    cwd: path.join(REPO_ROOT, 'tools', 'ferretdb'),
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOPROXY: 'off' },
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    log(`cannot build the unpatched FerretDB (${r.stderr.trim().split('\n').at(-1)}); stock figures skipped`);
    return null;
  }
  return bin;
}

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

function report(results: SizeResult[], started: Date, minutes: number): string {
  const cpus = os.cpus();
  const ferretVersion = /FerretDB (v\S+)/.exec(fs.readFileSync(path.join(REPO_ROOT, 'tools', 'ferretdb', 'go.mod'), 'utf8'))?.[1] ?? '?';
  const lines = [
    '<!-- bench:scale:start (written by `npm run bench:scale`) -->',
    `### This run (${started.toISOString().slice(0, 16)}Z, ${minutes.toFixed(0)} min)`,
    '',
    `- CPU: ${cpus[0]?.model ?? '?'}, ${cpus.length} cores; RAM ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; ${os.type()} ${os.release()}`,
    `- Node ${process.version}; FerretDB ${ferretVersion} (SQLite backend) built by scripts/provision.mjs with tools/ferretdb/sqlite-index-pushdown.patch ("patched"), and the same module without it ("stock")`,
    `- Sizes run: ${[...new Set(results.map((r) => `${r.build} ${r.size}`))].join(', ')}; ${RUNS} measured calls per row after 3 warm-up calls, fewer when a row's ${BUDGET_MS / 1000} s budget ran out (n)`,
    ...(REUSE ? ['- Measured on the data seeded by an earlier `BENCH_SCALE_SEED_ONLY=1` run (`BENCH_SCALE_REUSE`); the seeding times are that run\'s'] : []),
    '',
  ];
  const sizes = [...new Set(results.map((r) => r.size))].sort((a, b) => a - b);
  const base10 = results.find((r) => r.build === 'patched' && r.size === sizes[0]);
  for (const size of sizes) {
    const patched = results.find((r) => r.build === 'patched' && r.size === size);
    const stock = results.find((r) => r.build === 'stock' && r.size === size);
    const any = patched ?? stock!;
    lines.push(`#### ${size.toLocaleString('en')} dossiers`, '');
    lines.push(
      `Seeded in ${(any.seedMs / 1000).toFixed(0)} s; compliance counts ${!BUILD_COUNTS ? 'not built (BENCH_SCALE_COUNTS=0)' : any.countsMs === null ? 'not built within 30 min' : `built from the records in ${(any.countsMs / 1000).toFixed(0)} s`}.`,
      '',
      `| request | patched p50 | p95 | p99 | n | p95 ÷ /healthz p95 | p95 ÷ ${sizes[0].toLocaleString('en')}'s |${stock ? ' stock p50 | stock p95 | n |' : ''}`,
      `|---|--:|--:|--:|--:|--:|--:|${stock ? '--:|--:|--:|' : ''}`,
    );
    const health = patched?.rows[0].m?.p95;
    for (const [i, r] of any.rows.entries()) {
      const p = patched?.rows[i]?.m;
      const sr = stock?.rows[i]?.m;
      const b = base10?.rows[i]?.m;
      const cells = p ? [ms(p.p50), ms(p.p95), ms(p.p99), String(p.n), health ? `${(p.p95 / health).toFixed(1)}×` : '', b ? `${(p.p95 / b.p95).toFixed(2)}` : ''] : ['–', '–', '–', '–', '', ''];
      const note = [patched?.rows[i]?.note, stock?.rows[i]?.note && !sr ? `stock ${stock.rows[i].note}` : undefined].filter(Boolean).join('; ');
      lines.push(`| ${r.label}${note ? ` (${note})` : ''} | ${cells.join(' | ')} |${stock ? ` ${sr ? ms(sr.p50) : '–'} | ${sr ? ms(sr.p95) : '–'} | ${sr?.n ?? ''} |` : ''}`);
    }
    lines.push('');
  }
  lines.push('<!-- bench:scale:end -->');
  return lines.join('\n');
}

function writeReport(text: string): void {
  const current = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '# Benchmarks\n';
  const re = /<!-- bench:scale:start[\s\S]*?<!-- bench:scale:end -->/;
  fs.writeFileSync(OUT, re.test(current) ? current.replace(re, text) : `${current.trimEnd()}\n\n${text}\n`);
}

// --------------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = new Date();
  const patchedBin = toolPaths().ferretdb;
  if (!patchedBin) throw new Error('FerretDB is not provisioned: run `npm run provision`');
  const stockBin = STOCK_SIZES.length ? stockBinary() : null;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  const server = await startTemporalDevServer({ dbFile: path.join(root, 'temporal.db'), uiPort: null, logFile: path.join(root, 'temporal.log') });
  const results: SizeResult[] = [];
  const native = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  try {
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./lifecycle/workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } });
    const bundlePath = path.join(root, 'workflow-bundle.js');
    fs.writeFileSync(bundlePath, bundle.code);
    const t: TemporalSide = { native, temporal: new Client({ connection, namespace: 'default' }), bundlePath };
    for (const size of SIZES) {
      for (const [build, bin] of [['patched', patchedBin], ...(stockBin && STOCK_SIZES.includes(size) ? [['stock', stockBin]] : [])] as ['patched' | 'stock', string][]) {
        const r = await runSize(build, bin, size, t, root);
        if (r) results.push(r);
      }
      if (results.length) writeReport(report(results, started, (Date.now() - started.getTime()) / 60_000));
    }
    log(results.length ? `written to ${path.relative(REPO_ROOT, OUT)}` : `seeded into ${root}`);
  } finally {
    await connection.close();
    await native.close();
    await server.stop();
    if (!KEEP) fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('bench:scale failed:', err);
  process.exit(1);
});
