/**
 * The stack under test: `npm start`'s supervisor (scripts/start.ts) on free
 * ports with its data in a temporary folder, one worker and one API or, for
 * the scale-out run, two of each; the sandbox payment gateway runs in this
 * process so its captures can be compared with the ledger. And the faults.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MongoClient, type Db } from 'mongodb';
import { startPaymentSandbox, type PaymentSandbox } from '../../sandbox/payment-gateway';
import { readChildren, stopGroup } from '../children';
import { freePort, isPortFree, REPO_ROOT } from '../servers';
import { newSubmission } from './journeys';
import type { Fault } from './options';
import { call, log, run, SECRET, secs, sleep, stepTimeoutMs, tokens } from './run';

export interface Stack {
  dataDir: string;
  gateway: PaymentSandbox;
  temporal: Client;
  connection: Connection;
  mongo: MongoClient;
  db: Db;
  stop(): Promise<void>;
}

const childOf = (dataDir: string, role: string) => {
  const child = readChildren(path.join(dataDir, 'children.json'))?.children.find((c) => c.role === role);
  if (!child) throw new Error(`no running ${role} recorded`);
  return child;
};

/** Set while the supervisor starts: stops it when the run is interrupted then. */
export let stopStarting: () => void = () => undefined;

/** A free port whose next `count - 1` ports are free too (start.ts puts the APIs on PORT, PORT+1, …). */
async function freePorts(count: number): Promise<number> {
  for (;;) {
    const port = await freePort();
    let all = true;
    for (let i = 1; i < count; i++) if (!(await isPortFree(port + i, '127.0.0.1'))) all = false;
    if (all) return port;
  }
}

export async function startStack(): Promise<Stack> {
  const apis = run.opts.scaleOut ? 2 : 1;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-'));
  const gateway = await startPaymentSandbox({ slowMs: 200 });
  const [temporalPort, uiPort, ferretPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const apiPort = await freePorts(apis);
  run.apiUrls = Array.from({ length: apis }, (_, i) => `http://127.0.0.1:${apiPort + i}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['TEMPORAL_ADDRESS', 'MONGODB_URI']) delete env[name];
  // Only `off` is passed on (to compare with workers that bundle the code themselves); a path would be shared between runs.
  if (env.WORKFLOW_BUNDLE_PATH !== 'off') delete env.WORKFLOW_BUNDLE_PATH;
  Object.assign(env, {
    DATA_DIR: dataDir,
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    FERRETDB_PORT: String(ferretPort),
    PAYMENT_GATEWAY_URL: gateway.url,
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    START_APIS: String(apis),
    START_WORKERS: String(run.opts.scaleOut ? 2 : 1),
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
  const built = /bundled the workflow code into \S+ \(([\d.]+) s\)/.exec(output);
  run.bundle = built
    ? `workers load the workflow bundle the supervisor built once (${built[1]} s)`
    : 'each worker bundles the workflow code itself when it starts (WORKFLOW_BUNDLE_PATH=off)';
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
      run.acknowledged.add(sub.code);
      run.journeys.push({ code: sub.code, path: 'probe', outcome: 'done' });
      return Date.now();
    }
    // No answer: the outcome is unknown, so this code is neither acknowledged nor refused.
    if (res.status === 503) run.refused.add(sub.code);
    await sleep(500);
  }
  return null;
}

export const pollingLines = (dataDir: string, role: string) => {
  try {
    return fs.readFileSync(path.join(dataDir, 'logs', `${role}.log`), 'utf8').split('worker: polling task queue').length - 1;
  } catch {
    return 0;
  }
};

/** Until the killed worker polls again (one more line in its log) or the killed API answers /healthz. */
async function servingAgain(stack: Stack, role: string, before: { polls: number; port: number | undefined }): Promise<number | null> {
  const until = Date.now() + stepTimeoutMs();
  while (Date.now() < until) {
    if (role.startsWith('worker') && pollingLines(stack.dataDir, role) > before.polls) return Date.now();
    if (role.startsWith('api') && before.port) {
      const ok = await fetch(`http://127.0.0.1:${before.port}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      if (ok) return Date.now();
    }
    await sleep(250);
  }
  return null;
}

export async function inject(stack: Stack, fault: Fault): Promise<void> {
  const target = fault.startsWith('ferretdb') ? 'ferretdb' : fault;
  const injectedAt = Date.now();
  let backAt = injectedAt;
  let note: string;
  let serving: Promise<number | null> = Promise.resolve(null);
  const child = childOf(stack.dataDir, target);
  const others = run.opts.scaleOut && (fault === 'worker' || fault === 'api') ? `, the other ${fault} serving` : '';
  if (fault === 'ferretdb-pause') {
    process.kill(child.pid, 'SIGSTOP');
    await sleep(run.opts.pauseMs);
    process.kill(child.pid, 'SIGCONT');
    backAt = Date.now();
    note = `SIGSTOP for ${secs(run.opts.pauseMs)} s, then SIGCONT`;
  } else {
    const before = { polls: pollingLines(stack.dataDir, target), port: child.ports[0] };
    process.kill(child.pid, 'SIGKILL');
    note = `kill -9 of the ${target}${others}; npm start starts it again`;
    if (fault === 'worker' || fault === 'api') serving = servingAgain(stack, target, before);
  }
  log(`${fault}: injected (${note})`);
  const [recoveredAt, servingAgainAt] = await Promise.all([probeRecovery(), serving]);
  run.faultsRun.push({ fault, target, injectedAt, backAt, recoveredAt, servingAgainAt, note });
  log(
    `${fault}: ${recoveredAt ? `submissions accepted again ${secs(recoveredAt - backAt)} s after the dependency's return` : 'NOT recovered'}` +
      (servingAgainAt ? `; the killed ${target} served again after ${secs(servingAgainAt - injectedAt)} s` : ''),
  );
}
