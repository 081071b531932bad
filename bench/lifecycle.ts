/**
 * Dossiers through their whole life under load (issue #13 item 2):
 * `npm run bench:lifecycle`.
 *
 * It starts a Temporal dev server, the patched FerretDB and the sandbox
 * payment gateway on free ports, then for each setting (a set of WORKER_* /
 * MONGODB_* variables) the API, a dossier worker and a baseline worker as
 * child processes with those variables. At each arrival rate it drives, open
 * loop, collect-and-deliver dossiers through the public API with the roles'
 * tokens (submission, wait for the courier job and the capture, picked up,
 * received, completed, wait for the delivery job, delivered), then the
 * baseline (bench/lifecycle/workflows.ts: the same number of updates,
 * activities and timers, a single read-model write per activity) through
 * the Temporal client at the same rate, with the same client waits.
 *
 * Measured per phase: dossiers/s completed in the window after a warm-up,
 * submission and event latency, the journey's time, timer lag (timer probes
 * on the same worker: how late a 1 s durable timer resumes the workflow), the
 * in-flight journeys and the task queues' backlog (DescribeTaskQueue) every
 * 2 s, and whether they grow. Per setting: the worker's RSS per open (cached)
 * workflow, N dossiers left waiting for their pickup.
 *
 * Options (flags or BENCH_LIFECYCLE_* variables):
 *   --rates=1,3          arrival rates, dossiers/s (BENCH_LIFECYCLE_RATES)
 *   --seconds=30         arrival window per rate (BENCH_LIFECYCLE_SECONDS)
 *   --steady-rate=20 --steady-minutes=10   a steady phase after the rates, dossiers only (0: none)
 *   --steady-setting=NAME   the setting that runs it (default: the first)
 *   --cached=100         open workflows for the memory figure, twice (0: none)
 *   --settings='defaults;act4@1,3:WORKER_MAX_CONCURRENT_ACTIVITIES=4,MONGODB_MAX_POOL_SIZE=5'
 *                        settings run one after the other (`@rates`: other rates than --rates for
 *                        that one); the memory figure is the first setting's;
 *                        BENCH_TEMPORAL=tuned in a setting runs it on a second dev server with the
 *                        dynamic config values of TUNED_TEMPORAL below
 *   --max-in-flight=400  arrivals beyond it are dropped (counted)
 *   --poll=1             seconds between a client's reads while it waits for the dossier to move on
 *   --drain=60           seconds a phase's journeys may run on after its arrivals, then abandoned (counted)
 *   --label=short        names the report section; --out=docs/BENCHMARKS.md (--out= for none)
 *   --platform-rates=10,20   phases of the platform's floor after the pairs (each setting):
 *                        a workflow with the journey's 5 updates and nothing else (0 or empty: none)
 *   --platform-seconds=30   arrival window of those phases (BENCH_LIFECYCLE_PLATFORM_SECONDS)
 *   --cpu-prof=DIR       V8 CPU profiles of the API and both workers into DIR (node --cpu-prof; figures not for reporting)
 *   --full               rates 2,5,50 × 30 s, steady 20/s for 10 min, 250 cached (about 25 min)
 *
 * Each phase also reads the CPU seconds of every process of the stack from
 * /proc (bench/lifecycle/cpu.ts) at its start and once its journeys are done
 * or abandoned, and reports them per completed journey.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client, Connection, WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import * as referenceData from '../reference-data';
import { signToken } from '../api/auth';
import { homeSubmission } from '../reference-data/example-submissions';
import { startPaymentSandbox } from '../sandbox/payment-gateway';
import { REPO_ROOT, freePort, spawnManaged, startFerretDB, startTemporalDevServer, toolPaths, waitUntil, type ManagedProcess } from '../scripts/servers';
import { ensureIndexes } from '../store/db';
import { ReferenceData } from '../store/reference-data';
import { cpuBetween, readCpu, type CpuReading } from './lifecycle/cpu';
import { backlogTrend, bytesPer, fmtMs, fmtRatio, ratio, summarize, throughput, type Sample, type Summary } from './lifecycle/stats';
import { HAPPY_PATH_SHAPE, baselineLifecycle, baselineProgressQuery, baselineRegisteredUpdate, baselineStepUpdate, platformLifecycle, platformStepUpdate, timerProbe } from './lifecycle/workflows';

// ------------------------------------------------------------------ options

function option(name: string, env: string, fallback: string): string {
  const flag = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (flag) return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : 'true';
  return process.env[env] ?? fallback;
}
const FULL = option('full', 'BENCH_LIFECYCLE_FULL', 'false') === 'true';
const numbers = (s: string) => s.split(',').map(Number).filter((n) => Number.isFinite(n) && n > 0);
const RATES = numbers(option('rates', 'BENCH_LIFECYCLE_RATES', FULL ? '2,5,50' : '1,3'));
const SECONDS = Number(option('seconds', 'BENCH_LIFECYCLE_SECONDS', '30'));
const STEADY_RATE = Number(option('steady-rate', 'BENCH_LIFECYCLE_STEADY_RATE', '20'));
const STEADY_MINUTES = Number(option('steady-minutes', 'BENCH_LIFECYCLE_STEADY_MINUTES', FULL ? '10' : '0'));
const CACHED = Number(option('cached', 'BENCH_LIFECYCLE_CACHED', FULL ? '250' : '100'));
const MAX_IN_FLIGHT = Number(option('max-in-flight', 'BENCH_LIFECYCLE_MAX_IN_FLIGHT', '400'));
const STEADY_SETTING = option('steady-setting', 'BENCH_LIFECYCLE_STEADY_SETTING', '');
const PLATFORM_RATES = numbers(option('platform-rates', 'BENCH_LIFECYCLE_PLATFORM_RATES', ''));
const PLATFORM_SECONDS = Number(option('platform-seconds', 'BENCH_LIFECYCLE_PLATFORM_SECONDS', String(SECONDS)));
const CPU_PROF = option('cpu-prof', 'BENCH_LIFECYCLE_CPU_PROF', '');
const LABEL = option('label', 'BENCH_LIFECYCLE_LABEL', FULL ? 'full' : 'short');
const OUT = option('out', 'BENCH_LIFECYCLE_OUT', path.join('docs', 'BENCHMARKS.md'));
const SETTINGS = option('settings', 'BENCH_LIFECYCLE_SETTINGS', 'defaults')
  .split(';')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((s) => {
    const [head, vars = ''] = s.includes(':') ? [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1)] : [s, ''];
    const [name, rates] = head!.split('@');
    const env = Object.fromEntries(vars.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
    return { name: name!, env, rates: rates ? numbers(rates) : null };
  });

/**
 * Dynamic config tried against start-dev's own (BENCH_TEMPORAL=tuned; docs/BENCHMARKS.md "Where the CPU
 * goes": no difference measured, so the embedded server does not use it). start-dev forces a reload of
 * the search attributes (and Nexus endpoints) from SQLite on every read, for people who add them by
 * hand; eager activities hand an activity back with the workflow task's completion, without matching.
 */
const TUNED_TEMPORAL = {
  'system.forceSearchAttributesCacheRefreshOnRead': false,
  'system.forceNexusEndpointRefreshOnRead': false,
  'system.enableActivityEagerExecution': true,
};

const SECRET = 'bench-lifecycle-secret-of-at-least-32-characters';
const POLL_MS = Number(option('poll', 'BENCH_LIFECYCLE_POLL', '1')) * 1000;
const REQUEST_TIMEOUT_MS = 30_000;
/** Journeys still running this long after their phase's arrivals end are abandoned. */
const DRAIN_MS = Number(option('drain', 'BENCH_LIFECYCLE_DRAIN', '60')) * 1000;
const PROBES = 3;
const PROBE_PERIOD_MS = 1000;
const SELF = { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' as const };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => console.log(`bench:lifecycle ${new Date().toISOString().slice(11, 19)} ${m}`);

// ------------------------------------------------------------------ a phase

interface Phase {
  kind: 'dossier' | 'baseline' | 'platform';
  rate: number;
  seconds: number;
  started: number;
  arrivals: number;
  dropped: number;
  submissions: number[];
  events: number[];
  journeys: number[];
  completedAt: number[];
  abandoned: number;
  errors: Map<string, number>;
  inFlight: Sample[];
  backlog: Sample[];
  timerLags: number[];
  /** Workflow ids of completed journeys, for their histories. */
  ids: string[];
  /** From a sample of completed histories: activity scheduled → started, and started → completed. */
  activityWait: number[];
  activityRun: number[];
  /** Workflow tasks that ran local activities (held open until they were done): started → completed. */
  localRun: number[];
  /** CPU seconds per process from the phase's start until its journeys were done or abandoned, and that time. */
  cpu: CpuReading | null;
  cpuSeconds: number;
  /** From the same sample of histories: histories read, and their workflow tasks, timed-out ones (a sticky queue's schedule-to-start: the task then runs from history) and events. */
  sampled: { histories: number; tasks: number; timedOut: number; events: number };
}

/** The processes whose CPU a phase reads, by name (set once the stack runs). */
let cpuPids: () => Record<string, number> = () => ({});

class Abandoned extends Error {}

/** One journey's client: the steps of a collect-and-deliver dossier, for the API or for the baseline. */
interface Driver {
  kind: Phase['kind'];
  taskQueue: string;
  /** Resolves to the journey's workflow id. */
  journey(p: Phase, i: number, stopped: () => boolean): Promise<string>;
}

function countError(p: Phase, what: string): void {
  p.errors.set(what, (p.errors.get(what) ?? 0) + 1);
}

async function timed<T>(into: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  into.push(performance.now() - t0);
  return r;
}

// ---------------------------------------------------------------- dossiers

function apiDriver(base: string, taskQueue: string, prefix: string): Driver {
  const portal = signToken(SECRET, { sub: 'bench-portal', role: 'portal' }, 24 * 3600);
  const manager = signToken(SECRET, { sub: 'bench-manager', role: 'manager' }, 24 * 3600);
  const agency = signToken(SECRET, { sub: 'bench-agency', role: 'agency', agencyId: 'HL-TNMT' }, 24 * 3600);
  const couriers = new Map<string, string>();
  const courier = (id: string) => couriers.get(id) ?? couriers.set(id, signToken(SECRET, { sub: `bench-${id}`, role: 'courier', courierId: id }, 24 * 3600)).get(id)!;
  type View = { status: string; job: { courierId: string } | null; fees: { paidVnd: number } };

  async function call(p: Phase, method: string, url: string, token: string, body?: unknown): Promise<{ status: number; body: View }> {
    try {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status >= 300) countError(p, `${method === 'GET' ? 'GET' : url.endsWith('events') ? 'event' : 'submission'} ${res.status}`);
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as View };
    } catch {
      countError(p, `${method} no answer`);
      return { status: 0, body: {} as View };
    }
  }
  async function until(p: Phase, code: string, ok: (v: View) => boolean, stopped: () => boolean): Promise<View> {
    for (;;) {
      if (stopped()) throw new Abandoned();
      const r = await call(p, 'GET', `/v1/dossiers/${code}`, manager);
      if (r.status === 200 && ok(r.body)) return r.body;
      await sleep(POLL_MS);
    }
  }
  async function event(p: Phase, code: string, step: string, token: string, body: Record<string, unknown>, stopped: () => boolean): Promise<void> {
    for (;;) {
      if (stopped()) throw new Abandoned();
      const r = await timed(p.events, () => call(p, 'POST', `/v1/dossiers/${code}/events`, token, { ...body, eventId: `${code}:${step}` }));
      if (r.status === 200) return;
      if (r.status !== 0 && r.status !== 503) throw new Error(`${code} ${step}: ${r.status}`);
      await sleep(1000);
    }
  }
  return {
    kind: 'dossier',
    taskQueue,
    async journey(p, i, stopped) {
      const code = `${prefix}-${i}`;
      for (;;) {
        if (stopped()) throw new Abandoned();
        const r = await timed(p.submissions, () => call(p, 'POST', '/v1/dossiers', portal, homeSubmission(code)));
        if (r.status === 201 || r.status === 200 || r.status === 202) break;
        if (r.status !== 0 && r.status !== 503) throw new Error(`${code} submission: ${r.status}`);
        await sleep(1000);
      }
      const waiting = await until(p, code, (v) => v.status === 'awaiting_pickup' && v.job !== null && v.fees.paidVnd > 0, stopped);
      await event(p, code, 'picked-up', courier(waiting.job!.courierId), { type: 'courier.picked_up' }, stopped);
      await event(p, code, 'received', agency, { type: 'agency.received', receiptNo: 'BN-1' }, stopped);
      await event(p, code, 'completed', agency, { type: 'agency.completed', outcome: 'approved', resultRef: 'KQ-1' }, stopped);
      const out = await until(p, code, (v) => v.status === 'out_for_delivery' && v.job !== null, stopped);
      await event(p, code, 'delivered', courier(out.job!.courierId), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF }, stopped);
      return `dossier-${code}`;
    },
  };
}

// ---------------------------------------------------------------- baseline

/** The start and the registration update in one call, as the API submits a dossier (update-with-start). */
async function startRegistered<W extends typeof baselineLifecycle | typeof platformLifecycle>(
  temporal: Client,
  workflow: W,
  options: { taskQueue: string; workflowId: string; args: Parameters<W> },
): Promise<WorkflowHandle<W>> {
  const start = new WithStartWorkflowOperation(workflow, { ...options, workflowIdConflictPolicy: 'FAIL' });
  await temporal.workflow.executeUpdateWithStart(baselineRegisteredUpdate, { startWorkflowOperation: start });
  return start.workflowHandle();
}

function baselineDriver(temporal: Client, taskQueue: string, prefix: string): Driver {
  async function settled(p: Phase, h: WorkflowHandle, phase: number, stopped: () => boolean): Promise<void> {
    for (;;) {
      if (stopped()) throw new Abandoned();
      const s = await h.query(baselineProgressQuery).catch(() => {
        countError(p, 'query failed');
        return null;
      });
      if (s && s.phase === phase && s.settled) return;
      await sleep(POLL_MS);
    }
  }
  return {
    kind: 'baseline',
    taskQueue,
    async journey(p, i, stopped) {
      const h = await timed(p.submissions, () => startRegistered(temporal, baselineLifecycle, { taskQueue, workflowId: `${prefix}-${i}`, args: [HAPPY_PATH_SHAPE] }));
      await settled(p, h, 0, stopped); // as the dossier client waits for the job and the capture
      for (let step = 1; step < HAPPY_PATH_SHAPE.length; step++) {
        if (stopped()) throw new Abandoned();
        await timed(p.events, () => h.executeUpdate(baselineStepUpdate, { args: [step] }));
        if (step === 3) await settled(p, h, 3, stopped); // as it waits for the delivery job
      }
      return h.workflowId;
    },
  };
}

// ---------------------------------------------------------------- platform

/** The platform's floor: start, the registration update, then 4 step updates back to back; no activity, no wait. */
function platformDriver(temporal: Client, taskQueue: string, prefix: string): Driver {
  const steps = HAPPY_PATH_SHAPE.length - 1;
  return {
    kind: 'platform',
    taskQueue,
    async journey(p, i, stopped) {
      const h = await timed(p.submissions, () => startRegistered(temporal, platformLifecycle, { taskQueue, workflowId: `${prefix}-${i}`, args: [steps] }));
      for (let step = 1; step <= steps; step++) {
        if (stopped()) throw new Abandoned();
        await timed(p.events, () => h.executeUpdate(platformStepUpdate, { args: [step] }));
      }
      return h.workflowId;
    },
  };
}

// -------------------------------------------------------------- run a phase

async function backlogOf(connection: Connection, taskQueue: string): Promise<number | null> {
  let total = 0;
  for (const taskQueueType of [1, 2]) {
    // 1 = workflow, 2 = activity; the normal queue only (cached workflows' tasks go to the worker's sticky queue).
    const r = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue, kind: 1 }, taskQueueType, reportStats: true }).catch(() => null);
    const n = r?.stats?.approximateBacklogCount;
    if (n == null) return null;
    total += Number(n);
  }
  return total;
}

async function runPhase(driver: Driver, temporal: Client, connection: Connection, rate: number, seconds: number): Promise<Phase> {
  const p: Phase = { kind: driver.kind, rate, seconds, started: Date.now(), arrivals: 0, dropped: 0, submissions: [], events: [], journeys: [], completedAt: [], abandoned: 0, errors: new Map(), inFlight: [], backlog: [], timerLags: [], ids: [], activityWait: [], activityRun: [], localRun: [], cpu: null, cpuSeconds: 0, sampled: { histories: 0, tasks: 0, timedOut: 0, events: 0 } };
  const cpuAtStart = readCpu(cpuPids());
  const end = p.started + seconds * 1000;
  const probes = await Promise.all(
    Array.from({ length: PROBES }, (_, k) =>
      temporal.workflow.start(timerProbe, { taskQueue: driver.taskQueue, workflowId: `probe-${driver.taskQueue}-${rate}-${p.started}-${k}`, args: [{ periodMs: PROBE_PERIOD_MS + 97 * k, until: end }] }),
    ),
  );
  let inFlight = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  const stopped = () => Date.now() > stopAt;
  const running: Promise<void>[] = [];
  const sampler = setInterval(() => {
    const at = Date.now();
    if (at > end) return;
    p.inFlight.push({ at, value: inFlight });
    void backlogOf(connection, driver.taskQueue).then((n) => n !== null && p.backlog.push({ at, value: n }));
  }, 2000);
  const interval = 1000 / rate;
  for (let i = 0; Date.now() < end; i++) {
    const due = p.started + i * interval;
    if (due > Date.now()) await sleep(due - Date.now());
    if (Date.now() >= end) break;
    p.arrivals++;
    if (inFlight >= MAX_IN_FLIGHT) {
      p.dropped++;
      continue;
    }
    inFlight++;
    const t0 = Date.now();
    running.push(
      driver
        .journey(p, i, stopped)
        .then(
          (id) => {
            p.ids.push(id);
            p.journeys.push(Date.now() - t0);
            p.completedAt.push(Date.now());
          },
          (err: unknown) => {
            if (err instanceof Abandoned) p.abandoned++;
            else countError(p, String((err as Error).message ?? err).replace(/^\S+ /, '').slice(0, 60));
          },
        )
        .finally(() => inFlight--),
    );
  }
  clearInterval(sampler);
  stopAt = Date.now() + DRAIN_MS;
  await Promise.all(running);
  p.cpu = cpuBetween(cpuAtStart, readCpu(cpuPids()));
  p.cpuSeconds = (Date.now() - p.started) / 1000;
  for (const h of probes) p.timerLags.push(...(await Promise.race([h.result(), sleep(30_000).then(() => [] as number[])])));
  await activityTimes(temporal, p);
  log(`  ${driver.kind} @ ${rate}/s: ${summarizePhase(p)}`);
  return p;
}

/** Once journeys of the window's first arrivals complete: completions over a window as long as the arrivals', shifted by the journey's p50. */
function settledFrom(p: Phase): number {
  const l = summarize(p.journeys).p50;
  return Number.isFinite(l) ? l : 0;
}

const HISTORY_SAMPLE = 25;

/** Whether a marker is a local activity's (sdk-core names them so; its other markers are patches). */
function isLocalActivity(e: { markerRecordedEventAttributes?: { markerName?: string | null } | null }): boolean {
  return e.markerRecordedEventAttributes?.markerName === 'core_local_activity';
}

/** Activity queueing and run times (and local activities' times) from the histories of up to HISTORY_SAMPLE completed journeys, spread over the phase. */
async function activityTimes(temporal: Client, p: Phase): Promise<void> {
  const step = Math.max(1, Math.floor(p.ids.length / HISTORY_SAMPLE));
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : Number.NaN);
  for (let i = 0; i < p.ids.length; i += step) {
    const history = await temporal.workflow.getHandle(p.ids[i]!).fetchHistory().catch(() => null);
    const scheduled = new Map<string, number>();
    const started = new Map<string, number>();
    // A workflow task's started → completed, counted once if its commands hold a local activity's marker.
    let taskStarted = Number.NaN;
    let taskHeld: number | null = null;
    if (history?.events) {
      p.sampled.histories++;
      p.sampled.events += history.events.length;
    }
    for (const e of history?.events ?? []) {
      if (e.eventType === 5) p.sampled.tasks++;
      else if (e.eventType === 8) p.sampled.timedOut++;
      const id = String(e.eventId);
      // temporal.api.enums.v1.EventType: activity 10 scheduled, 11 started, 12 completed; workflow task 5, 6, 7 the same; 25 a marker.
      if (e.eventType === 10) scheduled.set(id, ms(e.eventTime));
      else if (e.eventType === 11) {
        const of = String(e.activityTaskStartedEventAttributes?.scheduledEventId);
        started.set(of, ms(e.eventTime));
        p.activityWait.push(ms(e.eventTime) - (scheduled.get(of) ?? Number.NaN));
      } else if (e.eventType === 12) {
        const of = String(e.activityTaskCompletedEventAttributes?.scheduledEventId);
        p.activityRun.push(ms(e.eventTime) - (started.get(of) ?? Number.NaN));
      } else if (e.eventType === 6) taskStarted = ms(e.eventTime);
      else if (e.eventType === 7) taskHeld = ms(e.eventTime) - taskStarted;
      else if (e.eventType === 5) taskHeld = null;
      else if (e.eventType === 25 && isLocalActivity(e) && taskHeld !== null) {
        p.localRun.push(taskHeld);
        taskHeld = null;
      }
    }
  }
  p.activityWait = p.activityWait.filter(Number.isFinite);
  p.activityRun = p.activityRun.filter(Number.isFinite);
  p.localRun = p.localRun.filter(Number.isFinite);
}

function phaseThroughput(p: Phase): number {
  const shift = settledFrom(p);
  return throughput(p.completedAt, p.started + shift, p.started + p.seconds * 1000 + shift);
}

/** The samples after the in-flight count had time to fill (the journey's p50). */
const settledSamples = (p: Phase, xs: Sample[]) => xs.filter((x) => x.at >= p.started + settledFrom(p));

function summarizePhase(p: Phase): string {
  const s = summarize(p.submissions);
  const e = summarize(p.events);
  const t = summarize(p.timerLags);
  const n = p.completedAt.length;
  const cpu = p.cpu && n ? `; CPU ms/journey ${CPU_COLUMNS.map(([k, h]) => `${h.split(' ')[0]} ${fmtMs(((p.cpu![k] ?? Number.NaN) * 1000) / n)}`).join(', ')}` : '';
  return `${phaseThroughput(p).toFixed(2)}/s done, submission p50 ${fmtMs(s.p50)} p99 ${fmtMs(s.p99)} ms, event p50 ${fmtMs(e.p50)} p99 ${fmtMs(e.p99)} ms, timer lag p50 ${fmtMs(t.p50)} p99 ${fmtMs(t.p99)} ms, ${p.completedAt.length}/${p.arrivals} done, ${p.dropped} dropped, ${p.abandoned} abandoned${cpu}`;
}

// ---------------------------------------------------------------- processes

/** Resident set of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

interface Servers {
  temporalAddress: string;
  mongoUri: string;
  gatewayUrl: string;
  bundlePath: string;
  root: string;
}

interface SettingStack {
  api: string;
  apiPid: number;
  dossierWorker: ManagedProcess;
  baselineWorker: ManagedProcess;
  dossierQueue: string;
  baselineQueue: string;
  stop(): Promise<void>;
}

async function startSetting(s: Servers, setting: { name: string; env: Record<string, string> }): Promise<SettingStack> {
  const dossierQueue = `bench-dossiers-${setting.name}`;
  const baselineQueue = `bench-baseline-${setting.name}`;
  const port = await freePort();
  const common: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    SUPERVISOR_PID: String(process.pid),
    TEMPORAL_ADDRESS: s.temporalAddress,
    MONGODB_URI: s.mongoUri,
    MONGODB_DB: 'bench_lifecycle',
    AUTH_JWT_SECRET: SECRET,
    PAYMENT_GATEWAY_URL: s.gatewayUrl,
    SCHEDULES_ENABLED: 'false',
    BENCH_LIFECYCLE_BUNDLE: s.bundlePath,
    ...setting.env,
  };
  const node = (name: string, file: string, args: string[], env: NodeJS.ProcessEnv) =>
    spawnManaged(name, process.execPath, [...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(CPU_PROF, `${setting.name}-${name}`)}`] : []), '--import', 'tsx', file, ...args], { env: { ...common, ...env }, logFile: path.join(s.root, `${setting.name}-${name}.log`) });
  const dossierWorker = node('dossier-worker', 'bench/lifecycle/worker.ts', ['dossier'], { TEMPORAL_TASK_QUEUE: dossierQueue });
  const baselineWorker = node('baseline-worker', 'bench/lifecycle/worker.ts', ['baseline'], { TEMPORAL_TASK_QUEUE: baselineQueue });
  const api = node('api', 'api/main.ts', [], { TEMPORAL_TASK_QUEUE: dossierQueue, HOST: '127.0.0.1', PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  const polling = (w: ManagedProcess) => async () => fs.readFileSync(w.logFile!, 'utf8').includes('polling');
  await waitUntil(dossierWorker, 'the dossier worker', polling(dossierWorker), 120_000);
  await waitUntil(baselineWorker, 'the baseline worker', polling(baselineWorker), 120_000);
  await waitUntil(api, 'the API', async () => (await fetch(`${base}/readyz`)).status === 200, 120_000);
  return {
    api: base,
    apiPid: api.pid,
    dossierWorker,
    baselineWorker,
    dossierQueue,
    baselineQueue,
    async stop() {
      // A profile is written at exit only: give a profiled process time to stop on its own.
      const grace = CPU_PROF ? 60_000 : undefined;
      await Promise.all([api.stop(grace), dossierWorker.stop(grace), baselineWorker.stop(grace)]);
    },
  };
}

// ------------------------------------------------------------------ memory

interface Memory {
  n: number;
  dossier: { bytes: number | null; cached: [number, number]; rss: number };
  baseline: { bytes: number | null; cached: [number, number]; rss: number };
}

/** The worker's cached workflows, from the status line it logs every second. */
function cachedOf(w: ManagedProcess): number {
  const m = [...fs.readFileSync(w.logFile!, 'utf8').matchAll(/bench-status (\{.*\})/g)].at(-1);
  return m ? (JSON.parse(m[1]!) as { cached: number }).cached : Number.NaN;
}

/** Median of 5 readings a second apart: RSS moves with each collection. */
async function steadyRss(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    xs.push(rssBytes(pid));
    await sleep(1000);
  }
  return summarize(xs).p50;
}

/**
 * Workflows left open (a dossier waiting for its pickup, a baseline for its
 * first step), N then N more: the RSS between the two plateaus ÷ the growth
 * of the worker's cache. Measuring from an idle worker instead would count
 * the collection of the load phases' garbage.
 */
async function memoryPerCachedWorkflow(stack: SettingStack, temporal: Client, n: number, prefix: string): Promise<Memory> {
  const portal = signToken(SECRET, { sub: 'bench-portal', role: 'portal' }, 3600);
  const manager = signToken(SECRET, { sub: 'bench-manager', role: 'manager' }, 3600);
  let serial = 0;
  const openDossiers = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          next++;
          const code = `${prefix}-mem-${serial++}`;
          const r = await fetch(`${stack.api}/v1/dossiers`, { method: 'POST', headers: { authorization: `Bearer ${portal}`, 'content-type': 'application/json' }, body: JSON.stringify(homeSubmission(code)) });
          await r.text();
          for (let k = 0; k < 240; k++) {
            const v = await fetch(`${stack.api}/v1/dossiers/${code}`, { headers: { authorization: `Bearer ${manager}` } });
            const body = v.status === 200 ? ((await v.json()) as { status: string; job: unknown }) : (await v.text(), null);
            if (body?.status === 'awaiting_pickup' && body.job) break;
            await sleep(POLL_MS);
          }
        }
      }),
    );
  };
  const openBaselines = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          next++;
          const h = await temporal.workflow.start(baselineLifecycle, { taskQueue: stack.baselineQueue, workflowId: `${prefix}-mem-${serial++}`, args: [HAPPY_PATH_SHAPE] });
          await h.executeUpdate(baselineRegisteredUpdate);
          for (let k = 0; k < 240; k++) {
            const s = await h.query(baselineProgressQuery).catch(() => null);
            if (s?.settled) break;
            await sleep(POLL_MS);
          }
        }
      }),
    );
  };
  const measure = async (w: ManagedProcess, open: (count: number) => Promise<void>) => {
    await open(n);
    await sleep(3000);
    const [r1, c1] = [await steadyRss(w.pid), cachedOf(w)];
    await open(n);
    await sleep(3000);
    const [r2, c2] = [await steadyRss(w.pid), cachedOf(w)];
    const grown = Number.isFinite(c2 - c1) && c2 > c1 ? c2 - c1 : n;
    return { bytes: bytesPer(r1, r2, grown), cached: [c1, c2] as [number, number], rss: r2 };
  };
  const dossier = await measure(stack.dossierWorker, openDossiers);
  const baseline = await measure(stack.baselineWorker, openBaselines);
  return { n, dossier, baseline };
}

// ------------------------------------------------------------- calibration

/** Counts of one finished workflow's history: what the baseline is meant to match. */
async function shapeOf(temporal: Client, workflowId: string): Promise<Record<string, number>> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const count = (type: number) => history.events?.filter((e) => e.eventType === type).length ?? 0;
  const local = history.events?.filter((e) => e.eventType === 25 && isLocalActivity(e)).length ?? 0;
  // temporal.api.enums.v1.EventType numbers (25: a marker; local activities are the sdk-core ones).
  return {
    'activities (queued)': count(10),
    'local activities': local,
    timers: count(17),
    updates: count(41),
    'workflow tasks': count(7),
    'search attribute upserts': count(40),
    'history events': history.events?.length ?? 0,
  };
}

// ------------------------------------------------------------------ report

interface SettingResult {
  name: string;
  env: Record<string, string>;
  pairs: { dossier: Phase; baseline: Phase }[];
  steady: Phase | null;
  platform: Phase[];
  memory: Memory | null;
  shape: { dossier: Record<string, number>; baseline: Record<string, number> } | null;
}

const mib = (b: number | null) => (b == null ? '–' : `${(b / 1024).toFixed(1)} KiB`);
const errs = (p: Phase) => [...p.errors].map(([k, v]) => `${k} ×${v}`).join(', ') || 'none';

function trendCell(p: Phase, samples: Sample[]): string {
  const t = backlogTrend(settledSamples(p, samples), Math.max(5, p.rate * 2));
  if (!Number.isFinite(t.first)) return '–';
  return `${t.first.toFixed(0)} → ${t.last.toFixed(0)}${t.growing ? ' **growing**' : ''}`;
}

const CPU_COLUMNS: [string, string][] = [
  ['temporal', 'Temporal server'],
  ['ferretdb', 'FerretDB'],
  ['api', 'API'],
  ['dossierWorker', 'dossier worker'],
  ['baselineWorker', 'baseline worker'],
  ['bench', 'bench (clients, gateway)'],
];

function sampledCell(x: Phase): string {
  const h = x.sampled.histories;
  if (!h) return '–';
  return `${(x.sampled.events / h).toFixed(0)}, ${(x.sampled.tasks / h).toFixed(1)} (${(x.sampled.timedOut / h).toFixed(1)})`;
}

/** CPU ms per completed journey of each process, per phase; cores used by ours and by the rest of the machine. */
function cpuTable(phases: Phase[], steady: Phase | null): string[] {
  const rows = phases
    .filter((x) => x.cpu)
    .map((x) => {
      const c = x.cpu!;
      const n = x.completedAt.length;
      const per = (s: number | undefined) => (n > 0 && s != null && Number.isFinite(s) ? (s * 1000) / n : Number.NaN);
      const ours = CPU_COLUMNS.reduce((a, [k]) => a + (c[k] ?? 0), 0);
      const cores = (s: number) => (x.cpuSeconds > 0 && Number.isFinite(s) ? (s / x.cpuSeconds).toFixed(2) : '–');
      return `| ${x.kind}${x === steady ? ' (steady)' : ''} | ${x.rate} | ${n} | ${CPU_COLUMNS.map(([k]) => fmtMs(per(c[k]))).join(' | ')} | **${fmtMs(per(ours))}** | ${cores(ours)} / ${cores((c.machine ?? Number.NaN) - ours)} | ${sampledCell(x)} |`;
    });
  return [
    'CPU per completed journey, ms (each process\'s utime + stime from /proc over the phase, from its first arrival until its journeys were done or abandoned, ÷ the journeys completed; cores: our processes\' CPU seconds ÷ the phase\'s wall time, then the rest of the machine\'s, other sessions\' work):',
    '',
    `| phase | rate /s | done | ${CPU_COLUMNS.map(([, h]) => h).join(' | ')} | ours | cores: ours / others | per journey: history events, workflow tasks (timed out) |`,
    `|---|--:|--:|${CPU_COLUMNS.map(() => '--:|').join('')}--:|--:|--:|`,
    ...rows,
  ];
}

function versions(): string {
  const tools = toolPaths();
  let temporal = '?';
  try {
    temporal = execFileSync(tools.temporal!, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    /* unknown */
  }
  const ferret = /FerretDB\/FerretDB (v\S+)/.exec(fs.readFileSync(path.join(REPO_ROOT, 'tools', 'ferretdb', 'go.mod'), 'utf8'))?.[1] ?? '?';
  const sdk = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'node_modules', '@temporalio', 'worker', 'package.json'), 'utf8')) as { version: string }).version;
  return `Node ${process.version}; ${temporal}; Temporal TypeScript SDK ${sdk}; FerretDB ${ferret} (SQLite, patched)`;
}

function report(results: SettingResult[], started: Date, loadBefore: number[]): string {
  const cpus = os.cpus();
  const lines = [
    `<!-- bench:lifecycle:${LABEL}:start (written by \`npm run bench:lifecycle\`) -->`,
    `#### Run "${LABEL}" (${started.toISOString().slice(0, 16)}Z, ${((Date.now() - started.getTime()) / 60_000).toFixed(0)} min)`,
    '',
    `- Machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}; **shared with other work**: load average ${loadBefore.map((l) => l.toFixed(1)).join(' / ')} before, ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} after (1/5/15 min). Read the ratios to the in-run baseline, not the absolute figures.`,
    `- ${versions()}`,
    `- Rates ${SETTINGS.map((x) => `${(x.rates ?? RATES).join(', ')} (${x.name})`).join('; ')} dossiers/s, ${SECONDS} s of arrivals each (dossiers then baseline at each rate); throughput counts the completions over a window as long as the arrivals', starting a median journey after the first arrival (in flight and backlog trends too are read from then on); journeys still running ${DRAIN_MS / 1000} s after the window are abandoned; at most ${MAX_IN_FLIGHT} in flight (arrivals beyond are dropped). Clients read the dossier (or query the baseline) every ${POLL_MS / 1000} s while they wait for it to move on. Timer lag: ${PROBES} probe workflows on the same worker sleeping ~${PROBE_PERIOD_MS / 1000} s in a loop. Activity queued (scheduled → started) and run (started → completed) times, and the time a workflow task that ran local activities was held (started → completed; the worker completes it once they are done): from the histories of up to ${HISTORY_SAMPLE} completed journeys per phase.`,
    '',
  ];
  for (const r of results) {
    lines.push(`##### Setting "${r.name}"${Object.keys(r.env).length ? `: ${Object.entries(r.env).map(([k, v]) => `${k}=${v}`).join(', ')}` : ': the defaults'}`, '');
    if (r.shape) {
      const keys = Object.keys(r.shape.dossier);
      lines.push(`One finished journey's history: ${keys.map((k) => `${k} ${r.shape!.dossier[k]} (baseline ${r.shape!.baseline[k]})`).join(', ')}.`, '');
    }
    lines.push(
      '| rate /s | dossiers/s | baseline /s | ratio | submission p50 / p99 ms | baseline | p99 ratio | event p50 / p99 ms | baseline | p99 ratio | journey p50 s | timer lag p50 / p99 ms | baseline | activity queued p50 / p99 ms | baseline | activity run p50 / p99 ms | baseline | workflow task with local activities p50 / p99 ms | in flight (first → last third) | baseline | task-queue backlog | done / arrived (dropped, abandoned) | errors |',
      '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
    );
    for (const { dossier: d, baseline: b } of r.pairs) {
      const [ds, bs, de, be, dt, bt] = [summarize(d.submissions), summarize(b.submissions), summarize(d.events), summarize(b.events), summarize(d.timerLags), summarize(b.timerLags)];
      const pct = (s: Summary) => `${fmtMs(s.p50)} / ${fmtMs(s.p99)}`;
      lines.push(
        `| ${d.rate} | ${phaseThroughput(d).toFixed(2)} | ${phaseThroughput(b).toFixed(2)} | ${fmtRatio(ratio(phaseThroughput(d), phaseThroughput(b)))} | ${pct(ds)} | ${pct(bs)} | ${fmtRatio(ratio(ds.p99, bs.p99))} | ${pct(de)} | ${pct(be)} | ${fmtRatio(ratio(de.p99, be.p99))} | ${(summarize(d.journeys).p50 / 1000).toFixed(1)} | ${pct(dt)} | ${pct(bt)} | ${pct(summarize(d.activityWait))} | ${pct(summarize(b.activityWait))} | ${pct(summarize(d.activityRun))} | ${pct(summarize(b.activityRun))} | ${d.localRun.length ? pct(summarize(d.localRun)) : '–'} | ${trendCell(d, d.inFlight)} | ${trendCell(b, b.inFlight)} | ${trendCell(d, d.backlog)} | ${d.completedAt.length} / ${d.arrivals} (${d.dropped}, ${d.abandoned}); baseline ${b.completedAt.length} / ${b.arrivals} (${b.dropped}, ${b.abandoned}) | ${errs(d)}${b.errors.size ? `; baseline ${errs(b)}` : ''} |`,
      );
    }
    lines.push('');
    if (r.steady) {
      const s = r.steady;
      const t = backlogTrend(settledSamples(s, s.inFlight), Math.max(5, s.rate * 2));
      const q = backlogTrend(settledSamples(s, s.backlog), Math.max(5, s.rate * 2));
      lines.push(
        `Steady ${s.rate} dossiers/s for ${(s.seconds / 60).toFixed(0)} min: ${phaseThroughput(s).toFixed(2)} done/s; submission p50 / p99 ${fmtMs(summarize(s.submissions).p50)} / ${fmtMs(summarize(s.submissions).p99)} ms; event ${fmtMs(summarize(s.events).p50)} / ${fmtMs(summarize(s.events).p99)} ms; timer lag ${fmtMs(summarize(s.timerLags).p50)} / ${fmtMs(summarize(s.timerLags).p99)} ms; activity queued ${fmtMs(summarize(s.activityWait).p50)} / ${fmtMs(summarize(s.activityWait).p99)} ms, run ${fmtMs(summarize(s.activityRun).p50)} / ${fmtMs(summarize(s.activityRun).p99)} ms; workflow task with local activities ${fmtMs(summarize(s.localRun).p50)} / ${fmtMs(summarize(s.localRun).p99)} ms; in flight ${t.first.toFixed(0)} → ${t.last.toFixed(0)} (${t.perMinute.toFixed(1)}/min, ${t.growing ? '**growing**' : 'not growing'}); task-queue backlog ${Number.isFinite(q.first) ? `${q.first.toFixed(0)} → ${q.last.toFixed(0)} (${q.growing ? '**growing**' : 'not growing'})` : 'not reported'}; ${s.completedAt.length} / ${s.arrivals} done, ${s.dropped} dropped, ${s.abandoned} abandoned; errors: ${errs(s)}.`,
        '',
      );
    }
    if (r.platform.length) {
      lines.push(
        `The platform's floor (\`platformLifecycle\`: the journey's 5 updates, no activity, timer or search attribute; start with the registration update in one call (update-with-start), then 4 updates back to back, on the baseline worker), ${PLATFORM_SECONDS} s of arrivals per rate:`,
        '',
        '| rate /s | done /s | start + first update p50 / p99 ms | update p50 / p99 ms | in flight (first → last third) | task-queue backlog | done / arrived (dropped, abandoned) | errors |',
        '|--:|--:|--:|--:|--:|--:|--:|---|',
        ...r.platform.map((x) => {
          const [a, u] = [summarize(x.submissions), summarize(x.events)];
          return `| ${x.rate} | ${phaseThroughput(x).toFixed(2)} | ${fmtMs(a.p50)} / ${fmtMs(a.p99)} | ${fmtMs(u.p50)} / ${fmtMs(u.p99)} | ${trendCell(x, x.inFlight)} | ${trendCell(x, x.backlog)} | ${x.completedAt.length} / ${x.arrivals} (${x.dropped}, ${x.abandoned}) | ${errs(x)} |`;
        }),
        '',
      );
    }
    const phases = [...r.pairs.flatMap((x) => [x.dossier, x.baseline]), ...r.platform, ...(r.steady ? [r.steady] : [])];
    if (phases.some((x) => x.cpu)) lines.push(...cpuTable(phases, r.steady), '');
    if (r.memory) {
      const m = r.memory;
      const one = (x: Memory['dossier']) => `${mib(x.bytes)} per cached workflow (cache ${x.cached[0]} → ${x.cached[1]}, RSS ${(x.rss / 2 ** 20).toFixed(0)} MiB after)`;
      lines.push(`Worker memory (RSS between ${m.n} and ${2 * m.n} more open workflows, ÷ the cache's growth): dossier worker ${one(m.dossier)}; baseline worker ${one(m.baseline)}.`, '');
    }
  }
  lines.push(`<!-- bench:lifecycle:${LABEL}:end -->`);
  return lines.join('\n');
}

function writeReport(text: string): void {
  if (!OUT) return;
  const file = path.resolve(REPO_ROOT, OUT);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = new RegExp(`<!-- bench:lifecycle:${LABEL}:start[\\s\\S]*?<!-- bench:lifecycle:${LABEL}:end -->`);
  const heading = '## Lifecycle throughput (issue #13)';
  const body = re.test(current) ? current.replace(re, text) : current.includes(heading) ? `${current.trimEnd()}\n\n${text}\n` : `${current.trimEnd()}\n\n${heading}\n\n${text}\n`;
  fs.writeFileSync(file, body);
}

// -------------------------------------------------------------------- main

async function main(): Promise<void> {
  // Ctrl-C: exit, so the exit hook of scripts/servers.ts stops the servers and workers.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const started = new Date();
  const loadBefore = os.loadavg();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lifecycle-'));
  log(`settings ${SETTINGS.map((s) => s.name).join(', ')}; rates ${RATES.join(', ')} × ${SECONDS} s; steady ${STEADY_MINUTES ? `${STEADY_RATE}/s × ${STEADY_MINUTES} min` : 'none'}; data in ${root}`);
  const temporalServer = await startTemporalDevServer({ dbFile: path.join(root, 'temporal.db'), uiPort: null, logFile: path.join(root, 'temporal.log') });
  // The tuned server, only if a setting asks for it: started then, stopped at the end.
  let tunedServer: typeof temporalServer | null = null;
  const tunedClients: { connection: Connection; temporal: Client }[] = [];
  const ferret = await startFerretDB({ dataDir: path.join(root, 'ferretdb'), logFile: path.join(root, 'ferretdb.log') });
  const gateway = await startPaymentSandbox({});
  const mongo = new MongoClient(ferret.uri);
  const ourConnection = await Connection.connect({ address: temporalServer.address });
  const ourTemporal = new Client({ connection: ourConnection, namespace: 'default' });
  let stack: SettingStack | null = null;
  const results: SettingResult[] = [];
  try {
    const db = mongo.db('bench_lifecycle');
    await ensureIndexes(db);
    await new ReferenceData(db).seed(structuredClone(referenceData));
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./lifecycle/workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } });
    const bundlePath = path.join(root, 'workflow-bundle.js');
    fs.writeFileSync(bundlePath, bundle.code);
    for (const setting of SETTINGS) {
      let server = temporalServer;
      let [connection, temporal] = [ourConnection, ourTemporal];
      if (setting.env.BENCH_TEMPORAL === 'tuned') {
        if (!tunedServer) {
          tunedServer = await startTemporalDevServer({ dbFile: path.join(root, 'temporal-tuned.db'), uiPort: null, logFile: path.join(root, 'temporal-tuned.log'), dynamicConfig: TUNED_TEMPORAL });
          const c = await Connection.connect({ address: tunedServer.address });
          tunedClients.push({ connection: c, temporal: new Client({ connection: c, namespace: 'default' }) });
        }
        server = tunedServer;
        [connection, temporal] = [tunedClients[0]!.connection, tunedClients[0]!.temporal];
      }
      const servers: Servers = { temporalAddress: server.address, mongoUri: ferret.uri, gatewayUrl: gateway.url, bundlePath, root };
      log(`setting ${setting.name}: starting the API and the workers`);
      stack = await startSetting(servers, setting);
      const running = stack;
      cpuPids = () => ({ temporal: server.pid, ferretdb: ferret.pid, api: running.apiPid, dossierWorker: running.dossierWorker.pid, baselineWorker: running.baselineWorker.pid });
      const tag = `${setting.name}-${started.getTime().toString(36)}`;
      const result: SettingResult = { name: setting.name, env: setting.env, pairs: [], steady: null, platform: [], memory: null, shape: null };
      results.push(result);
      // Warm-up (bundles loaded, connections open), not reported.
      await runPhase(apiDriver(stack.api, stack.dossierQueue, `LW-${tag}`), temporal, connection, 1, 10);
      await runPhase(baselineDriver(temporal, stack.baselineQueue, `bw-${tag}`), temporal, connection, 1, 10);
      result.shape = {
        dossier: await shapeOf(temporal, `dossier-LW-${tag}-0`).catch(() => ({})),
        baseline: await shapeOf(temporal, `bw-${tag}-0`).catch(() => ({})),
      };
      const first = setting === SETTINGS[0];
      // Before the load phases: journeys they abandon stay open and would fill the cache.
      if (first && CACHED > 0) {
        result.memory = await memoryPerCachedWorkflow(stack, temporal, CACHED, tag);
        log(`  memory: dossier ${mib(result.memory.dossier.bytes)} per cached workflow, baseline ${mib(result.memory.baseline.bytes)}`);
      }
      for (const rate of setting.rates ?? RATES) {
        const dossier = await runPhase(apiDriver(stack.api, stack.dossierQueue, `L${rate}-${tag}`), temporal, connection, rate, SECONDS);
        const baseline = await runPhase(baselineDriver(temporal, stack.baselineQueue, `b${rate}-${tag}`), temporal, connection, rate, SECONDS);
        result.pairs.push({ dossier, baseline });
        writeReport(report(results, started, loadBefore));
      }
      for (const rate of PLATFORM_RATES) {
        result.platform.push(await runPhase(platformDriver(temporal, stack.baselineQueue, `p${rate}-${tag}`), temporal, connection, rate, PLATFORM_SECONDS));
        writeReport(report(results, started, loadBefore));
      }
      if (setting.name === (STEADY_SETTING || SETTINGS[0]!.name) && STEADY_MINUTES > 0) {
        log(`  steady ${STEADY_RATE}/s for ${STEADY_MINUTES} min`);
        result.steady = await runPhase(apiDriver(stack.api, stack.dossierQueue, `LS-${tag}`), temporal, connection, STEADY_RATE, STEADY_MINUTES * 60);
        writeReport(report(results, started, loadBefore));
      }
      writeReport(report(results, started, loadBefore));
      await stack.stop();
      stack = null;
    }
    if (OUT) log(`written to ${OUT}`);
  } finally {
    await stack?.stop();
    await ourConnection.close();
    for (const c of tunedClients) await c.connection.close();
    await mongo.close();
    await gateway.close();
    await ferret.stop();
    await temporalServer.stop();
    await tunedServer?.stop();
    if (process.env.BENCH_LIFECYCLE_KEEP !== '1') fs.rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench:lifecycle failed:', err);
    process.exit(1);
  },
);
