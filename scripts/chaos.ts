/**
 * `npm run chaos`: a repeatable fault-injection run against the embedded stack.
 *
 * It runs `npm start`'s supervisor (scripts/start.ts) on free ports with its
 * data in a temporary folder, and the sandbox payment gateway in this process
 * (so its captures can be compared with the ledger). Concurrent clients drive
 * CHAOS_DOSSIERS dossiers (default 1000) through the public API along every
 * path: collect+deliver prepaid, the same with a supplement request,
 * electronic with counter collection and cash, a pickup failure, a declined
 * prepaid capture. The dossiers come in waves; during each wave one fault is
 * injected: kill -9 of the worker, kill -9 of the Temporal server, FerretDB
 * paused (SIGSTOP) for CHAOS_PAUSE_SECONDS (default 60), FerretDB killed,
 * kill -9 of the API. The supervisor starts what was killed again; this
 * script measures how long until a new submission is accepted again.
 *
 * After each wave and at the end it checks, from its own records of what the
 * API acknowledged: every acknowledged submission and event exists exactly
 * once (workflow query view, read model, timeline); the read model equals the
 * workflow's view; each ledger entry matches one gateway capture and each
 * capture one ledger entry; no courier job twice; the compliance summary
 * equals a count over the deadline records; no answer was a 500; a
 * submission answered 503 (never retried here) left no workflow and no capture.
 * The report goes to docs/RELIABILITY.md (CHAOS_REPORT to write elsewhere).
 *
 * Environment: CHAOS_DOSSIERS, CHAOS_CONCURRENCY (default 25), CHAOS_PAUSE_SECONDS,
 * CHAOS_FAULTS (comma-separated subset of worker,temporal,ferretdb-pause,ferretdb-kill,api).
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MongoClient, type Db } from 'mongodb';
import { signToken } from '../api/auth';
import type { DossierView } from '../domain/dossier';
import type { Submission } from '../domain/types';
import { homeSubmission } from '../reference-data/example-submissions';
import { startPaymentSandbox, type PaymentSandbox } from '../sandbox/payment-gateway';
import { scanSummary } from '../store/compliance';
import { COLLECTIONS } from '../store/db';
import type { DossierDoc } from '../store/read-model';
import { dossierViewQuery, dossierWorkflowId } from '../workflows/messages';
import { readChildren, stopGroup } from './children';
import { freePort, REPO_ROOT, toolPaths } from './servers';

const ALL_FAULTS = ['worker', 'temporal', 'ferretdb-pause', 'ferretdb-kill', 'api'] as const;
export type Fault = (typeof ALL_FAULTS)[number];

function intFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not '${raw}'`);
  return n;
}

export interface ChaosOptions {
  dossiers: number;
  concurrency: number;
  pauseMs: number;
  faults: Fault[];
  /** Where the report is written; null for none. */
  report: string | null;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ChaosOptions {
  return {
    dossiers: intFromEnv('CHAOS_DOSSIERS', 1000, env),
    concurrency: Math.max(1, intFromEnv('CHAOS_CONCURRENCY', 25, env)),
    pauseMs: intFromEnv('CHAOS_PAUSE_SECONDS', 60, env) * 1000,
    faults: (env.CHAOS_FAULTS ?? ALL_FAULTS.join(','))
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean)
      .map((f) => {
        if (!(ALL_FAULTS as readonly string[]).includes(f)) throw new Error(`CHAOS_FAULTS: unknown fault '${f}' (known: ${ALL_FAULTS.join(', ')})`);
        return f as Fault;
      }),
    report: env.CHAOS_REPORT ? path.resolve(env.CHAOS_REPORT) : path.join(REPO_ROOT, 'docs', 'RELIABILITY.md'),
  };
}

// One run per process: the records below are this run's.
let opts: ChaosOptions = { dossiers: 0, concurrency: 1, pauseMs: 0, faults: [], report: null };
/** How long one journey step may keep retrying through a fault. */
const stepTimeoutMs = () => Math.max(180_000, opts.pauseMs * 3);
const REQUEST_TIMEOUT_MS = 30_000;
const SECRET = 'chaos-run-secret-of-at-least-32-characters';
const SUBMITTED_AT = '2026-01-05T09:15:00+07:00';
const SELF = { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' as const };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.log(`chaos: ${line}`);
const t0 = Date.now();
const secs = (ms: number) => (ms / 1000).toFixed(1);

// ------------------------------------------------------------------ records

interface Answer {
  at: number;
  method: string;
  what: string;
  status: number;
  ms: number;
}

const answers: Answer[] = [];
/** Codes whose submission was acknowledged (200, 201 or 202). */
const acknowledged = new Set<string>();
/** Codes whose only submission answer was 503 (never retried): nothing may exist for them. */
const refused = new Set<string>();
/** eventId → dossier code, for acknowledged events. */
const ackedEvents = new Map<string, string>();
const journeys: { code: string; path: string; outcome: string }[] = [];
const faultsRun: { fault: Fault; injectedAt: number; backAt: number; recoveredAt: number | null; note: string }[] = [];
const checkResults: { after: string; results: Record<string, string[]> }[] = [];

let apiUrl = '';
const tokens = {
  portal: signToken(SECRET, { sub: 'chaos-portal', role: 'portal' }, 24 * 3600),
  manager: signToken(SECRET, { sub: 'chaos-manager', role: 'manager' }, 24 * 3600),
  clerk: signToken(SECRET, { sub: 'chaos-clerk', role: 'clerk' }, 24 * 3600),
  agency: (agencyId: string) => signToken(SECRET, { sub: `chaos-${agencyId}`, role: 'agency', agencyId }, 24 * 3600),
  courier: (courierId: string) => signToken(SECRET, { sub: `chaos-${courierId}`, role: 'courier', courierId }, 24 * 3600),
};

async function call(method: string, what: string, urlPath: string, token: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const start = Date.now();
  let status: number;
  let parsed: unknown = null;
  try {
    const res = await fetch(`${apiUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    status = res.status;
    const text = await res.text();
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
  } catch {
    status = 0; // no answer: refused connection or our own deadline
  }
  answers.push({ at: start, method, what, status, ms: Date.now() - start });
  return { status, body: parsed };
}

const retryable = (status: number) => status === 0 || status === 503 || status === 502 || status === 504 || status === 429;

// ------------------------------------------------------------------ journeys

type PathName = 'collect-deliver-prepaid' | 'supplement' | 'electronic-counter-cash' | 'pickup-failed' | 'declined';
const PATHS: PathName[] = ['collect-deliver-prepaid', 'supplement', 'electronic-counter-cash', 'pickup-failed', 'declined'];

let serial = 0;
function newSubmission(pathName: PathName): Submission {
  serial += 1;
  const code = `CH-${t0.toString(36)}-${serial}`;
  const base: Submission = { ...homeSubmission(code), payment: { method: 'prepaid', reference: `PAY-${code}` }, submittedAt: SUBMITTED_AT };
  if (pathName === 'electronic-counter-cash') {
    return { ...base, procedureCode: '2.000720', agencyId: 'HL-UBND', services: { collect: false, deliver: true }, pickupAddress: undefined, delivery: { method: 'counter' }, payment: { method: 'cash' } };
  }
  if (pathName === 'declined') return { ...base, payment: { method: 'prepaid', reference: `PAY-DECLINE-${code}` } };
  return base;
}

class JourneyError extends Error {}

const MAX_ABANDONED = 25;

/** Submits until acknowledged; a 503 abandons that code (it must leave nothing) and tries a new one. */
async function submit(pathName: PathName): Promise<Submission> {
  const until = Date.now() + stepTimeoutMs();
  for (;;) {
    const sub = newSubmission(pathName);
    for (;;) {
      const res = await call('POST', 'submission', '/v1/dossiers', tokens.portal, sub);
      if ([200, 201, 202].includes(res.status)) {
        acknowledged.add(sub.code);
        return sub;
      }
      // Abandoned (to check it left nothing) up to a bound, so a long outage does not multiply the codes to check.
      if (res.status === 503 && refused.size < MAX_ABANDONED) {
        refused.add(sub.code);
        break;
      }
      if (!retryable(res.status)) throw new JourneyError(`submission ${sub.code}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      if (Date.now() > until) throw new JourneyError(`submission ${sub.code}: no answer within ${secs(stepTimeoutMs())} s`);
      // No answer: the outcome is unknown, so the same request again (idempotent by code).
      await sleep(1000);
    }
    if (Date.now() > until) throw new JourneyError(`submission: only 503s for ${secs(stepTimeoutMs())} s`);
    await sleep(1000);
  }
}

async function view(code: string): Promise<DossierView | null> {
  const res = await call('GET', 'read', `/v1/dossiers/${code}`, tokens.manager);
  return res.status === 200 ? (res.body as DossierView) : null;
}

async function waitFor(code: string, what: string, ok: (v: DossierView) => boolean): Promise<DossierView> {
  const until = Date.now() + stepTimeoutMs();
  let last: DossierView | null = null;
  for (;;) {
    last = (await view(code)) ?? last;
    if (last && ok(last)) return last;
    if (Date.now() > until) throw new JourneyError(`${code}: not ${what} within ${secs(stepTimeoutMs())} s (status ${last?.status ?? '?'})`);
    await sleep(1000);
  }
}

async function event(code: string, step: string, token: string, body: Record<string, unknown>): Promise<DossierView> {
  const eventId = `${code}:${step}`;
  const until = Date.now() + stepTimeoutMs();
  for (;;) {
    const res = await call('POST', `event ${String(body.type)}`, `/v1/dossiers/${code}/events`, token, { ...body, eventId });
    if (res.status >= 200 && res.status < 300) {
      ackedEvents.set(eventId, code);
      return res.body as DossierView;
    }
    if (!retryable(res.status)) throw new JourneyError(`${code} ${String(body.type)}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    if (Date.now() > until) throw new JourneyError(`${code} ${String(body.type)}: no answer within ${secs(stepTimeoutMs())} s`);
    await sleep(1000);
  }
}

const courierOf = (v: DossierView) => tokens.courier(v.job?.courierId ?? 'HL-BT01');

async function journey(pathName: PathName): Promise<void> {
  let code = '?';
  try {
    const sub = await submit(pathName);
    code = sub.code;
    const agency = tokens.agency(sub.agencyId);
    if (pathName === 'declined') {
      await waitFor(code, 'declined', (v) => v.timeline.some((t) => t.type === 'system.payment_declined'));
    } else if (pathName === 'electronic-counter-cash') {
      await waitFor(code, 'handed off', (v) => v.status === 'in_transit_to_agency');
      await event(code, 'received', agency, { type: 'agency.received', receiptNo: 'BN-1' });
      await event(code, 'completed', agency, { type: 'agency.completed', outcome: 'approved', resultRef: 'KQ-1' });
      const held = await waitFor(code, 'held at the post office', (v) => v.status === 'held_at_post_office');
      await event(code, 'collected', tokens.clerk, { type: 'counter.collected', recipient: SELF, collectedVnd: held.fees.dueVnd });
    } else {
      const awaiting = await waitFor(code, 'awaiting pickup', (v) => v.status === 'awaiting_pickup' && v.job !== null && v.fees.paidVnd > 0);
      if (pathName === 'pickup-failed') {
        await event(code, 'pickup-failed', courierOf(awaiting), { type: 'courier.pickup_failed', reason: 'nobody home' });
      } else {
        await event(code, 'picked-up', courierOf(awaiting), { type: 'courier.picked_up' });
        await event(code, 'received', agency, { type: 'agency.received', receiptNo: 'BN-1' });
        if (pathName === 'supplement') {
          await event(code, 'supplement-requested', agency, { type: 'agency.supplement_requested', reason: 'thiếu bản sao', items: ['bản sao CCCD'] });
          await event(code, 'supplement-provided', tokens.portal, { type: 'citizen.supplement_provided', note: 'đã bổ sung' });
        }
        await event(code, 'completed', agency, { type: 'agency.completed', outcome: 'approved', resultRef: 'KQ-1' });
        const out = await waitFor(code, 'out for delivery', (v) => v.status === 'out_for_delivery' && v.job !== null);
        await event(code, 'delivered', courierOf(out), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF });
      }
    }
    journeys.push({ code, path: pathName, outcome: 'done' });
  } catch (err) {
    journeys.push({ code, path: pathName, outcome: err instanceof JourneyError ? err.message : String(err) });
  }
}

async function runPool(count: number, offset: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(opts.concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        await journey(PATHS[(offset + i) % PATHS.length]!);
      }
    }),
  );
}

// ------------------------------------------------------------------ the stack

interface Stack {
  dataDir: string;
  gateway: PaymentSandbox;
  temporal: Client;
  connection: Connection;
  mongo: MongoClient;
  db: Db;
  stop(): Promise<void>;
}

const childPid = (dataDir: string, role: string): number => {
  const pid = readChildren(path.join(dataDir, 'children.json'))?.children.find((c) => c.role === role)?.pid;
  if (!pid) throw new Error(`no running ${role} recorded`);
  return pid;
};

let stopStarting: () => void = () => undefined;

async function startStack(): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-'));
  const gateway = await startPaymentSandbox({ slowMs: 200 });
  const [temporalPort, uiPort, ferretPort, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  apiUrl = `http://127.0.0.1:${apiPort}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['TEMPORAL_ADDRESS', 'MONGODB_URI']) delete env[name];
  Object.assign(env, {
    DATA_DIR: dataDir,
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    FERRETDB_PORT: String(ferretPort),
    PAYMENT_GATEWAY_URL: gateway.url,
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    AUTH_JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn',
    MONGODB_DB: 'chaos',
  });
  const supervisor = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Interrupted while starting: the supervisor stops what it started.
  stopStarting = () => supervisor.kill('SIGTERM');
  let output = '';
  const onData = (b: Buffer) => {
    output += b.toString();
    for (const line of b.toString().split('\n')) if (line.trim()) log(`[supervisor] ${line.replace(/^start: /, '')}`.slice(0, 300));
  };
  supervisor.stdout.on('data', onData);
  supervisor.stderr.on('data', onData);
  const until = Date.now() + 180_000;
  while (!output.includes('start: ready')) {
    if (supervisor.exitCode !== null) throw new Error(`npm start exited: ${output}`);
    if (Date.now() > until) throw new Error(`npm start was not ready within 180 s: ${output}`);
    await sleep(250);
  }
  const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
  const temporal = new Client({ connection, namespace: 'default' });
  const mongo = new MongoClient(`mongodb://127.0.0.1:${ferretPort}`, { serverSelectionTimeoutMS: 120_000 });
  await mongo.connect();
  return {
    dataDir,
    gateway,
    temporal,
    connection,
    mongo,
    db: mongo.db('chaos'),
    async stop() {
      await mongo.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      if (supervisor.exitCode === null) {
        supervisor.kill('SIGTERM');
        await new Promise((r) => supervisor.once('exit', r));
      }
      for (const c of readChildren(path.join(dataDir, 'children.json'))?.children ?? []) await stopGroup(c.pgid, 5000);
      await gateway.close();
    },
  };
}

/** Until a new submission is acknowledged again (it is then driven like any other dossier's start). */
async function probeRecovery(): Promise<number | null> {
  const until = Date.now() + stepTimeoutMs();
  while (Date.now() < until) {
    const sub = newSubmission('electronic-counter-cash');
    const res = await call('POST', 'probe submission', '/v1/dossiers', tokens.portal, sub);
    if ([200, 201, 202].includes(res.status)) {
      acknowledged.add(sub.code);
      journeys.push({ code: sub.code, path: 'probe', outcome: 'done' });
      return Date.now();
    }
    // No answer: the outcome is unknown, so this code is neither acknowledged nor refused.
    if (res.status === 503) refused.add(sub.code);
    await sleep(500);
  }
  return null;
}

async function inject(stack: Stack, fault: Fault): Promise<void> {
  const injectedAt = Date.now();
  let backAt = injectedAt;
  let note = '';
  switch (fault) {
    case 'worker':
    case 'api':
    case 'temporal':
      process.kill(childPid(stack.dataDir, fault), 'SIGKILL');
      note = 'kill -9; npm start starts it again';
      break;
    case 'ferretdb-kill':
      process.kill(childPid(stack.dataDir, 'ferretdb'), 'SIGKILL');
      note = 'kill -9; npm start starts it again';
      break;
    case 'ferretdb-pause': {
      const pid = childPid(stack.dataDir, 'ferretdb');
      process.kill(pid, 'SIGSTOP');
      await sleep(opts.pauseMs);
      process.kill(pid, 'SIGCONT');
      backAt = Date.now();
      note = `SIGSTOP for ${secs(opts.pauseMs)} s, then SIGCONT`;
      break;
    }
  }
  log(`${fault}: injected (${note})`);
  const recoveredAt = await probeRecovery();
  faultsRun.push({ fault, injectedAt, backAt, recoveredAt, note });
  log(`${fault}: ${recoveredAt ? `submissions accepted again ${secs(recoveredAt - backAt)} s after the dependency's return` : 'NOT recovered'}`);
}

// ------------------------------------------------------------------ checks

async function workflowView(stack: Stack, code: string): Promise<DossierView | null | 'missing'> {
  try {
    return await stack.temporal.workflow.getHandle(dossierWorkflowId(code)).query(dossierViewQuery);
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return 'missing';
    throw err;
  }
}

/** Settles the read model (it lags the workflows by a projection) before comparing, within a bound. */
async function verify(stack: Stack, after: string): Promise<void> {
  const problems: Record<string, string[]> = {
    'acknowledged submission: workflow, read model, one dossier.submitted': [],
    'acknowledged event: exactly once in the timeline': [],
    'read model equals the workflow view': [],
    'ledger ↔ gateway captures, one to one': [],
    'courier jobs: no duplicate, at most one open per dossier': [],
    'compliance summary equals a count of the deadline records': [],
    'no 500 answer': [],
    'a 503 submission left nothing behind': [],
  };
  const codes = [...acknowledged];
  const views = new Map<string, DossierView>();
  const settleUntil = Date.now() + 120_000;
  let pending = codes;
  while (pending.length) {
    const still: string[] = [];
    for (const code of pending) {
      const wf = await workflowView(stack, code).catch(() => null);
      const doc = await stack.db.collection<DossierDoc>(COLLECTIONS.dossiers).findOne({ _id: code });
      if (wf === 'missing' || wf === null) {
        still.push(code);
        continue;
      }
      views.set(code, wf);
      if (!doc || doc.version !== wf.version || JSON.stringify(doc.view) !== JSON.stringify(wf)) still.push(code);
    }
    if (!still.length || Date.now() > settleUntil) {
      pending = still;
      break;
    }
    pending = still;
    await sleep(2000);
  }
  for (const code of pending) {
    const wf = views.get(code);
    const doc = await stack.db.collection<DossierDoc>(COLLECTIONS.dossiers).findOne({ _id: code });
    if (!wf) problems['acknowledged submission: workflow, read model, one dossier.submitted']!.push(`${code}: no workflow`);
    else if (!doc) problems['acknowledged submission: workflow, read model, one dossier.submitted']!.push(`${code}: not in the read model`);
    else problems['read model equals the workflow view']!.push(`${code}: read v${doc.version} (${doc.status}) ≠ workflow v${wf.version} (${wf.status})`);
  }
  for (const [code, wf] of views) {
    const submitted = wf.timeline.filter((t) => t.type === 'dossier.submitted').length;
    if (submitted !== 1) problems['acknowledged submission: workflow, read model, one dossier.submitted']!.push(`${code}: dossier.submitted ×${submitted}`);
  }
  for (const [eventId, code] of ackedEvents) {
    const wf = views.get(code);
    const n = wf?.timeline.filter((t) => t.eventId === eventId).length ?? 0;
    if (n !== 1) problems['acknowledged event: exactly once in the timeline']!.push(`${eventId}: ×${n}`);
  }

  const ledger = await stack.db.collection(COLLECTIONS.ledger).find({ kind: 'capture' }).toArray();
  const captures = stack.gateway.captures;
  for (const entry of ledger) {
    const matching = captures.filter((c) => c.idempotencyKey === String(entry._id));
    if (matching.length !== 1 || matching[0]!.amountVnd !== entry.amountVnd) {
      problems['ledger ↔ gateway captures, one to one']!.push(`ledger ${String(entry._id)}: ${matching.length} captures`);
    }
  }
  const ledgerKeys = new Set(ledger.map((e) => String(e._id)));
  const byKey = new Map<string, number>();
  for (const c of captures) byKey.set(c.idempotencyKey, (byKey.get(c.idempotencyKey) ?? 0) + 1);
  for (const [key, n] of byKey) {
    if (n !== 1) problems['ledger ↔ gateway captures, one to one']!.push(`capture ${key}: ×${n} at the gateway`);
    // A capture whose ledger entry is not written yet is only a fault once the workflows are settled.
    if (!ledgerKeys.has(key)) problems['ledger ↔ gateway captures, one to one']!.push(`capture ${key}: no ledger entry`);
  }

  const jobs = await stack.db.collection(COLLECTIONS.courierJobs).find({}).toArray();
  const perDossier = new Map<string, { purpose: string; attempt: number; status: string }[]>();
  for (const j of jobs) {
    const list = perDossier.get(String(j.dossierCode)) ?? [];
    list.push({ purpose: String(j.purpose), attempt: Number(j.attempt), status: String(j.status) });
    perDossier.set(String(j.dossierCode), list);
  }
  for (const [code, list] of perDossier) {
    const keys = list.map((j) => `${j.purpose}:${j.attempt}`);
    if (new Set(keys).size !== keys.length) problems['courier jobs: no duplicate, at most one open per dossier']!.push(`${code}: ${keys.join(', ')}`);
    if (list.filter((j) => j.status === 'open').length > 1) problems['courier jobs: no duplicate, at most one open per dossier']!.push(`${code}: several open jobs`);
  }

  const query = { from: '2026-01-01', to: '2026-12-31', groupBy: 'agency' as const };
  const fromRecords = await scanSummary(stack.db, query);
  let served: { totals?: unknown } | null = null;
  for (let i = 0; i < 30; i++) {
    const res = await call('GET', 'compliance summary', `/v1/compliance/summary?from=${query.from}&to=${query.to}&groupBy=agency`, tokens.manager);
    if (res.status === 200 && JSON.stringify(res.body?.totals) === JSON.stringify(fromRecords.totals)) {
      served = res.body;
      break;
    }
    served = res.body;
    await sleep(1000); // the counts trail the records by a pass
  }
  if (JSON.stringify(served?.totals) !== JSON.stringify(fromRecords.totals)) {
    problems['compliance summary equals a count of the deadline records']!.push(`served ${JSON.stringify(served?.totals)} ≠ counted ${JSON.stringify(fromRecords.totals)}`);
  }

  for (const a of answers) if (a.status >= 500 && a.status !== 503) problems['no 500 answer']!.push(`${a.method} ${a.what}: ${a.status} at +${secs(a.at - t0)} s`);
  for (const code of refused) {
    const wf = await workflowView(stack, code).catch(() => 'unknown' as const);
    if (wf !== 'missing') problems['a 503 submission left nothing behind']!.push(`${code}: a workflow exists`);
    if (captures.some((c) => c.idempotencyKey.startsWith(`${code}:`))) problems['a 503 submission left nothing behind']!.push(`${code}: a capture exists`);
  }

  checkResults.push({ after, results: problems });
  const failed = Object.entries(problems).filter(([, p]) => p.length);
  log(`checks after ${after}: ${failed.length ? failed.map(([k, p]) => `${k}: ${p.length} (${p.slice(0, 3).join('; ')})`).join(' | ') : 'all passed'}`);
}

// ------------------------------------------------------------------ report

/** Our FerretDB wrapper has no --version: the module it pins says. */
function ferretVersion(): string {
  try {
    return /FerretDB\/FerretDB (v\S+)/.exec(fs.readFileSync(path.join(REPO_ROOT, 'tools', 'ferretdb', 'go.mod'), 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

function versions(): string {
  const tools = toolPaths();
  const version = (bin: string | null, args: string[]) => {
    if (!bin) return '?';
    try {
      return execFileSync(bin, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
    } catch {
      return '?';
    }
  };
  const cpus = os.cpus();
  return [
    `- Machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min; other work on the machine counts too)`,
    `- Node ${process.version}; Temporal CLI: ${version(tools.temporal, ['--version'])}; FerretDB: ${ferretVersion()} (SQLite)`,
  ].join('\n');
}

function statusCounts(from: number, to: number): string {
  const counts = new Map<number, number>();
  for (const a of answers) if (a.at >= from && a.at <= to) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a - b).map(([s, n]) => `${s === 0 ? 'no answer' : s}: ${n}`).join(', ') || '—';
}

function writeReport(startedAt: Date, durationMs: number): void {
  const done = journeys.filter((j) => j.outcome === 'done' && j.path !== 'probe').length;
  const driven = journeys.filter((j) => j.path !== 'probe');
  const final = checkResults.at(-1);
  const slowest = (from: number, to: number) => Math.max(0, ...answers.filter((a) => a.at >= from && a.at <= to && a.status !== 0).map((a) => a.ms));
  const lines = [
    '# Reliability: the chaos run',
    '',
    'Written by `npm run chaos` (scripts/chaos.ts); rerun it to refresh. What it does and checks is described at the top of that script.',
    '',
    `Run of ${startedAt.toISOString()}: ${opts.dossiers} dossiers requested, ${opts.concurrency} concurrent clients, FerretDB pause ${secs(opts.pauseMs)} s, faults ${opts.faults.join(', ')}; ${secs(durationMs)} s in all.`,
    '',
    versions(),
    '',
    '## Faults',
    '',
    '| Fault | How | Answers during the fault (until recovered) | Slowest answer (ms) | Recovery after the dependency\'s return (s) |',
    '|---|---|---|---|---|',
    ...faultsRun.map((f) => {
      const end = f.recoveredAt ?? Date.now();
      return `| ${f.fault} | ${f.note} | ${statusCounts(f.injectedAt, end)} | ${slowest(f.injectedAt, end)} | ${f.recoveredAt ? secs(f.recoveredAt - f.backAt) : 'not recovered'} |`;
    }),
    '',
    '## Dossiers',
    '',
    `${driven.length} journeys driven, ${done} completed their path; acknowledged submissions: ${acknowledged.size}; acknowledged events: ${ackedEvents.size}; submissions answered 503 (not retried): ${refused.size}.`,
    '',
    '| Path | Driven | Completed |',
    '|---|---|---|',
    ...PATHS.map((p) => `| ${p} | ${driven.filter((j) => j.path === p).length} | ${driven.filter((j) => j.path === p && j.outcome === 'done').length} |`),
    '',
    ...(driven.some((j) => j.outcome !== 'done')
      ? ['Journeys that did not complete (first 10):', '', ...driven.filter((j) => j.outcome !== 'done').slice(0, 10).map((j) => `- ${j.path}: ${j.outcome}`), '']
      : []),
    `All answers: ${statusCounts(0, Number.MAX_SAFE_INTEGER)}.`,
    '',
    '## Checks',
    '',
    `| Check | ${checkResults.map((c) => c.after).join(' | ')} |`,
    `|---|${checkResults.map(() => '---').join('|')}|`,
    ...Object.keys(final?.results ?? {}).map((k) => `| ${k} | ${checkResults.map((c) => (c.results[k]!.length ? `**${c.results[k]!.length} failed**` : 'ok')).join(' | ')} |`),
    '',
    ...(final && Object.values(final.results).some((p) => p.length)
      ? ['Failures at the end (first 5 of each):', '', ...Object.entries(final.results).filter(([, p]) => p.length).map(([k, p]) => `- ${k}: ${p.slice(0, 5).join('; ')}`), '']
      : []),
  ];
  if (!opts.report) return;
  fs.mkdirSync(path.dirname(opts.report), { recursive: true });
  fs.writeFileSync(opts.report, `${lines.join('\n')}\n`);
  log(`report written to ${path.relative(process.cwd(), opts.report)}`);
}

// ------------------------------------------------------------------ main

export interface ChaosOutcome {
  /** Failures per check after the last wave; empty lists when all held. */
  failures: Record<string, string[]>;
  faults: typeof faultsRun;
  journeys: typeof journeys;
}

/** Runs once per process (the records are module state). */
export async function runChaos(options: ChaosOptions): Promise<ChaosOutcome> {
  opts = options;
  const startedAt = new Date();
  log(`${opts.dossiers} dossiers, ${opts.concurrency} clients, faults: ${opts.faults.join(', ') || 'none'}`);
  let stack: Stack | null = null;
  const interrupted = () => {
    log('interrupted: stopping the stack');
    writeReport(startedAt, Date.now() - startedAt.getTime());
    if (!stack) stopStarting();
    void (stack?.stop() ?? sleep(10_000)).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  stack = await startStack();
  try {
    const waves = opts.faults.length + 1;
    for (let w = 0; w < waves; w++) {
      const count = Math.floor(opts.dossiers / waves) + (w < opts.dossiers % waves ? 1 : 0);
      const fault = opts.faults[w - 1];
      log(`wave ${w + 1}/${waves}: ${count} dossiers${fault ? `, fault ${fault}` : ''}`);
      const driving = runPool(count, w);
      // Inject once the wave is well under way.
      if (fault) await sleep(3000).then(() => inject(stack, fault));
      await driving;
      await verify(stack, fault ? `${fault}` : 'no fault');
    }
    await verify(stack, 'end');
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    writeReport(startedAt, Date.now() - startedAt.getTime());
    await stack.stop();
  }
  const failures = checkResults.at(-1)?.results ?? {};
  // The servers' data and logs are kept when something failed, to look into.
  if (Object.values(failures).some((p) => p.length) || journeys.some((j) => j.outcome !== 'done')) log(`data and logs kept in ${stack.dataDir}`);
  else fs.rmSync(stack.dataDir, { recursive: true, force: true });
  return { failures, faults: faultsRun, journeys };
}

if (require.main === module) {
  runChaos(optionsFromEnv()).then(
    (outcome) => process.exit(Object.values(outcome.failures).some((p) => p.length) ? 1 : 0),
    (err: unknown) => {
      console.error('chaos:', err);
      process.exit(2);
    },
  );
}
