/**
 * `npm start`: the whole system on one machine. What is not given by the
 * environment runs embedded, with its data under ./data (DATA_DIR to use another folder):
 *   TEMPORAL_ADDRESS unset    → Temporal dev server (data/temporal.db), gRPC on TEMPORAL_PORT
 *                               (7233), Web UI on TEMPORAL_UI_PORT (8233)
 *   MONGODB_URI unset         → FerretDB (data/ferretdb/) on FERRETDB_PORT (27017)
 *   PAYMENT_GATEWAY_URL unset → the sandbox gateway (sandbox/payment-gateway.ts) on
 *                               PAYMENT_GATEWAY_PORT (3100)
 *   AUTH_JWT_SECRET unset     → a secret generated once into data/jwt-secret
 * DATA_DIR, TEMPORAL_PORT, TEMPORAL_UI_PORT, FERRETDB_PORT and PAYMENT_GATEWAY_PORT are
 * read here only (the API and worker never see them), so they are not in config/config.ts.
 *
 * Then the reference data is seeded (scripts/seed.ts), and the worker and the API
 * run as child processes; once GET /readyz answers 200 a banner says where things are.
 * START_WORKERS and START_APIS (default 1 each) run more of them: the APIs on
 * PORT, PORT+1, …, the workers on the same task queue (scale-out, as
 * `npm run chaos -- --scale-out` exercises).
 *
 * The workflow code is bundled once, here, into data/workflow-bundle.js
 * (WORKFLOW_BUNDLE_PATH to put it elsewhere; `off` to have each worker bundle
 * the code itself, as before, e.g. to compare) while the servers start, and every
 * worker loads it: a worker started again after a crash polls within seconds
 * instead of bundling for 8–20 s first. It is built again before a worker
 * starts when a source it was built from changed.
 *
 * Supervision (scripts/part.ts): once ready, a part that dies on its own (a crash, a kill -9) is
 * started again, after 1 s, doubling up to 30 s while it keeps dying, back to
 * 1 s once it has run for a minute; each restart is a line here. That holds for
 * the servers too (their data is on disk, crash-safe): only a server that cannot
 * be started again SERVER_RESTART_ATTEMPTS times in a row stops everything,
 * because nothing works without it. Ctrl-C or SIGTERM stops everything in
 * order: API and worker, then the gateway, then Temporal and FerretDB.
 *
 * Left-overs: the children are recorded in data/children.json. A start finding
 * that record stops the processes it names that are still ours (same command
 * line, running in this folder), e.g. servers left by a hard-killed start; a
 * port still taken is reported with the pids holding it. The worker and the API
 * are given SUPERVISOR_PID and stop by themselves when this process is gone.
 *
 * Output: every child writes to data/logs/<name>.log (emptied on each start,
 * appended on a restart), so the terminal shows only this script's lines.
 * Children run in their own process groups so that Ctrl-C reaches only this script.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config/config';
import { ensureWorkflowBundle } from '../workers/workflow-bundle';
import { cmdlineOf, isOurs, portHolders, readChildren, stopGroup, writeChildren, type ChildRecord } from './children';
import { Part, type Running, type SupervisorHooks } from './part';
import {
  PortInUseError,
  REPO_ROOT,
  canConnect,
  exitSummary,
  isPortFree,
  spawnManaged,
  startFerretDB,
  startTemporalDevServer,
  waitUntil,
} from './servers';

const DATA = process.env.DATA_DIR ? path.resolve(process.env.DATA_DIR) : path.join(REPO_ROOT, 'data');
const LOGS = path.join(DATA, 'logs');
const CHILDREN_FILE = path.join(DATA, 'children.json');
const READY_TIMEOUT_MS = 120_000;

/** A failure worth one line, without a stack. */
class StartError extends Error {}

const say = (line: string) => console.log(`start: ${line}`);
const rel = (p: string) => path.relative(process.cwd(), p) || p;
const exists = (file: string) => fs.existsSync(path.join(REPO_ROOT, file));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const firstLine = (err: unknown) => (err instanceof Error ? err.message.split('\n')[0]! : String(err));

let ready = false;
let stopping: Promise<never> | null = null;
const started = new Date().toISOString();

// Stopped in this order: apps (API, worker), then the gateway, then the servers.
const apps: Part[] = [];
const gateways: Part[] = [];
const servers: Part[] = [];
let seed: Running | null = null;

function recordChildren(): void {
  const children: ChildRecord[] = [...servers, ...gateways, ...apps].flatMap((part) =>
    part.current
      ? [{ role: part.role, pid: part.current.pid, pgid: part.current.pid, ports: part.ports, started: new Date(part.since).toISOString(), cmdline: cmdlineOf(part.current.pid) }]
      : [],
  );
  try {
    writeChildren(CHILDREN_FILE, { supervisor: { pid: process.pid, started, cmdline: cmdlineOf(process.pid) }, children });
  } catch (err) {
    say(`cannot record the children in ${rel(CHILDREN_FILE)}: ${firstLine(err)}`);
  }
}

function shutdown(code: number, line: string): Promise<never> {
  if (stopping) return stopping;
  say(line);
  stopping = (async () => {
    const stopAll = (parts: Part[]) => Promise.all(parts.map((p) => p.stop().catch(() => undefined)));
    await seed?.stop().catch(() => undefined);
    await stopAll(apps);
    await stopAll(gateways);
    await stopAll(servers);
    // Ours: nothing is left to stop (an interrupted start may have written it without children).
    if (readChildren(CHILDREN_FILE)?.supervisor.pid === process.pid) fs.rmSync(CHILDREN_FILE, { force: true });
    process.exit(code);
  })();
  return stopping;
}

const hooks: SupervisorHooks = { isReady: () => ready, isStopping: () => stopping !== null, shutdown, recordChildren, say };
const part = (role: string, kind: Part['kind'], ports: number[], launch: () => Promise<Running>) => new Part(role, kind, ports, launch, hooks);

/**
 * Stops what an earlier start of this folder left running (it was hard-killed),
 * or refuses when that start is still running.
 */
async function stopLeftovers(): Promise<void> {
  const record = readChildren(CHILDREN_FILE);
  if (!record) return;
  if (record.supervisor.pid !== process.pid && isOurs(record.supervisor)) {
    throw new StartError(`npm start is already running in this folder (pid ${record.supervisor.pid}): stop it first (Ctrl-C there, or kill ${record.supervisor.pid})`);
  }
  const ours = record.children.filter((c) => isOurs(c));
  if (ours.length) {
    say(`stopping what an earlier start left running: ${ours.map((c) => `${c.role} (pid ${c.pid})`).join(', ')}…`);
    await Promise.all(ours.map((c) => stopGroup(c.pgid)));
  }
  fs.rmSync(CHILDREN_FILE, { force: true });
}

function freshLog(name: string): string {
  const file = path.join(LOGS, `${name}.log`);
  fs.writeFileSync(file, '');
  return file;
}

function portFromEnv(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new StartError(`${variable} must be a port number (1-65535), not '${raw}'`);
  }
  return port;
}

/** Kept in a file so tokens minted by `npm run token` survive restarts. */
function jwtSecret(): string {
  const file = path.join(DATA, 'jwt-secret');
  if (fs.existsSync(file)) {
    const secret = fs.readFileSync(file, 'utf8').trim();
    if (secret.length >= 32) return secret;
  }
  const secret = randomBytes(48).toString('hex');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  say(`generated a JWT secret in ${rel(file)} (set AUTH_JWT_SECRET to use your own)`);
  return secret;
}

function spawnTs(name: string, file: string, env: NodeJS.ProcessEnv, logFile = freshLog(name)) {
  // `node --import tsx` runs the file in one process: signals and pids are the app's own.
  return spawnManaged(name, process.execPath, ['--import', 'tsx', file], { env, logFile, detached: true });
}

/** Builds the workflow bundle when a source changed; the worker bundles itself if that fails. */
async function buildBundle(file: string): Promise<void> {
  const began = Date.now();
  try {
    if ((await ensureWorkflowBundle(file)) === 'built') say(`bundled the workflow code into ${rel(file)} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
  } catch (err) {
    say(`cannot bundle the workflow code (${firstLine(err)}); the worker bundles it itself`);
  }
}

function countFromEnv(variable: string): number {
  const raw = process.env[variable];
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new StartError(`${variable} must be a whole number from 1 to 16, not '${raw}'`);
  return n;
}

const hidePassword = (uri: string) => uri.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');

async function main(): Promise<void> {
  fs.mkdirSync(LOGS, { recursive: true });
  await stopLeftovers();
  recordChildren();
  const env: NodeJS.ProcessEnv = { ...process.env, SUPERVISOR_PID: String(process.pid) };
  delete env.DATA_DIR;
  const embedTemporal = !env.TEMPORAL_ADDRESS;
  const embedMongo = !env.MONGODB_URI;
  const embedGateway = !env.PAYMENT_GATEWAY_URL;
  const temporalPort = portFromEnv('TEMPORAL_PORT', 7233);
  const uiPort = portFromEnv('TEMPORAL_UI_PORT', 8233);
  const ferretPort = portFromEnv('FERRETDB_PORT', 27017);
  const gatewayPort = portFromEnv('PAYMENT_GATEWAY_PORT', 3100);
  const workerCount = countFromEnv('START_WORKERS');
  const apiCount = countFromEnv('START_APIS');
  const bundle = env.WORKFLOW_BUNDLE_PATH === 'off' ? null : path.resolve(env.WORKFLOW_BUNDLE_PATH ?? path.join(DATA, 'workflow-bundle.js'));
  if (bundle) env.WORKFLOW_BUNDLE_PATH = bundle;
  else delete env.WORKFLOW_BUNDLE_PATH;
  // Started now, beside the servers; awaited before the first worker starts.
  const bundling = bundle ? buildBundle(bundle) : Promise.resolve();
  void bundling.catch(() => undefined);
  if (embedTemporal) env.TEMPORAL_ADDRESS = `127.0.0.1:${temporalPort}`;
  if (embedMongo) env.MONGODB_URI = `mongodb://127.0.0.1:${ferretPort}`;
  if (embedGateway) env.PAYMENT_GATEWAY_URL = `http://127.0.0.1:${gatewayPort}`;
  if (!env.AUTH_JWT_SECRET) env.AUTH_JWT_SECRET = jwtSecret();
  // The children would refuse a bad environment anyway; say so before starting anything.
  const cfg = loadConfig(env);
  if (cfg.PORT === 0) throw new StartError('PORT=0 (a random port) is not supported by npm start; set a port');

  const needed = ['api/main.ts', 'workers/main.ts', ...(embedGateway ? ['sandbox/payment-gateway.ts'] : [])];
  for (const file of needed) if (!exists(file)) throw new StartError(`${file} does not exist yet`);

  const ports: { port: number; host: string; variable: string }[] = [];
  if (embedTemporal) {
    ports.push({ port: temporalPort, host: '127.0.0.1', variable: 'TEMPORAL_PORT' });
    ports.push({ port: uiPort, host: '127.0.0.1', variable: 'TEMPORAL_UI_PORT' });
  }
  if (embedMongo) ports.push({ port: ferretPort, host: '127.0.0.1', variable: 'FERRETDB_PORT' });
  if (embedGateway) ports.push({ port: gatewayPort, host: '127.0.0.1', variable: 'PAYMENT_GATEWAY_PORT' });
  const apiPorts = Array.from({ length: apiCount }, (_, i) => cfg.PORT + i);
  for (const port of apiPorts) ports.push({ port, host: cfg.HOST, variable: apiCount > 1 ? 'PORT (or START_APIS)' : 'PORT' });
  const portInUse = (port: number) => {
    const holders = portHolders(port);
    const who = holders.length
      ? `by ${holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ')}`
      : '(is another npm start running?)';
    return new StartError(`port ${port} is in use ${who}. Stop it, or set ${ports.find((p) => p.port === port)?.variable ?? 'PORT'} to use another port.`);
  };
  for (const { port, host } of ports) if (!(await isPortFree(port, host))) throw portInUse(port);

  if (embedMongo) {
    const dataDir = path.join(DATA, 'ferretdb');
    const logFile = freshLog('ferretdb');
    servers.push(part('ferretdb', 'server', [ferretPort], () => startFerretDB({ dataDir, port: ferretPort, logFile, detached: true })));
    say(`starting FerretDB on 127.0.0.1:${ferretPort} (${rel(dataDir)})…`);
  }
  if (embedTemporal) {
    const dbFile = path.join(DATA, 'temporal.db');
    const logFile = freshLog('temporal');
    servers.push(
      part('temporal', 'server', [temporalPort, uiPort], () =>
        startTemporalDevServer({ dbFile, port: temporalPort, uiPort, namespace: cfg.TEMPORAL_NAMESPACE, logFile, detached: true }),
      ),
    );
    say(`starting the Temporal dev server on 127.0.0.1:${temporalPort} (${rel(dbFile)})…`);
  }
  // Side by side; whichever started is stopped (by shutdown) if the other fails.
  const failed = (await Promise.allSettled(servers.map((s) => s.start()))).find((s) => s.status === 'rejected');
  if (failed) {
    const reason: unknown = failed.reason;
    throw reason instanceof PortInUseError ? portInUse(reason.port) : reason;
  }

  if (embedGateway) {
    say(`starting the sandbox payment gateway on 127.0.0.1:${gatewayPort}…`);
    const logFile = freshLog('payment-gateway');
    const gateway = part('payment-gateway', 'app', [gatewayPort], async () => {
      const proc = spawnTs('payment-gateway', 'sandbox/payment-gateway.ts', { ...env, PORT: String(gatewayPort) }, logFile);
      await waitUntil(proc, 'the sandbox payment gateway', () => canConnect(gatewayPort)).catch(async (err: unknown) => {
        await proc.stop();
        throw err;
      });
      return proc;
    });
    gateways.push(gateway);
    await gateway.start();
  }

  if (exists('scripts/seed.ts')) {
    say('loading reference data (scripts/seed.ts)…');
    seed = spawnTs('seed', 'scripts/seed.ts', env);
    const info = await seed.exited;
    if (info.code !== 0) throw new StartError(`seeding failed: ${exitSummary('seed', info, seed.logFile)}`);
    seed = null;
  } else {
    say('scripts/seed.ts does not exist yet: skipping the reference data');
  }

  say(workerCount + apiCount > 2 ? `starting ${workerCount} workers and ${apiCount} APIs…` : 'starting the worker and the API…');
  await bundling;
  // The first of each is 'worker' and 'api'; more are 'worker-2', 'api-2', …
  const nth = (role: string, i: number) => (i === 0 ? role : `${role}-${i + 1}`);
  const workers = Array.from({ length: workerCount }, (_, i) => {
    const name = nth('worker', i);
    const logFile = freshLog(name);
    return part(name, 'app', [], async () => {
      if (bundle) await buildBundle(bundle);
      return spawnTs(name, 'workers/main.ts', env, logFile);
    });
  });
  const apis = apiPorts.map((port, i) => {
    const name = nth('api', i);
    const logFile = freshLog(name);
    return part(name, 'app', [port], () => Promise.resolve(spawnTs(name, 'api/main.ts', { ...env, PORT: String(port) }, logFile)));
  });
  const apiLog = path.join(LOGS, 'api.log');
  const api = apis[0]!;
  apps.push(...apis, ...workers);
  await Promise.all(apis.map((a) => a.start()));
  // One worker first: it alone creates the read model's indexes, which FerretDB 1.x cannot take from two processes at once.
  await workers[0]!.start();
  if (workers.length > 1) {
    const workerLog = path.join(LOGS, 'worker.log');
    const polling = () => fs.readFileSync(workerLog, 'utf8').includes('worker: polling task queue');
    const until = Date.now() + READY_TIMEOUT_MS;
    while (!polling() && workers[0]!.current && Date.now() < until) await sleep(250);
    if (!polling()) throw new StartError(`the first worker did not start polling (log: ${rel(workerLog)})`);
    await Promise.all(workers.slice(1).map((w) => w.start()));
  }
  const apiHost = ['0.0.0.0', '::'].includes(cfg.HOST) ? '127.0.0.1' : cfg.HOST;
  const readyz = `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${cfg.PORT}/readyz`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!api.current) throw new StartError(`the API (GET ${readyz}) did not start`);
    if (await fetch(readyz, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false)) break;
    if (Date.now() > deadline) throw new StartError(`the API (GET ${readyz}) was not ready within ${READY_TIMEOUT_MS / 1000} s (log: ${rel(apiLog)})`);
    await sleep(250);
  }

  // The other APIs are ready once they listen: they share the dependencies the first one checked.
  for (const other of apis.slice(1)) {
    const port = other.ports[0]!;
    while (!(await canConnect(port, apiHost))) {
      if (!other.current || Date.now() > deadline) throw new StartError(`the API on port ${port} did not start (log: ${rel(path.join(LOGS, `${other.role}.log`))})`);
      await sleep(250);
    }
  }
  ready = true;

  const apiUrl = `http://localhost:${cfg.PORT}`;
  const temporal = embedTemporal ? `http://localhost:${uiPort} (Web UI)` : `${env.TEMPORAL_ADDRESS} (external; no Web UI started here)`;
  console.log(
    [
      '',
      'start: ready — Ctrl-C stops everything',
      `  API          ${apiUrl}${apiPorts.length > 1 ? ` (and ports ${apiPorts.slice(1).join(', ')})` : ''}`,
      `  API docs     ${apiUrl}/docs`,
      `  Temporal     ${temporal}`,
      `  MongoDB      ${hidePassword(env.MONGODB_URI!)} (database ${cfg.MONGODB_DB})`,
      `  Logs         ${rel(LOGS)}/*.log`,
      `  Processes    ${rel(CHILDREN_FILE)}`,
      '  A token:     npm run token -- --role manager',
      '',
    ].join('\n'),
  );
}

process.on('SIGINT', () => void shutdown(0, 'stopping…'));
process.on('SIGTERM', () => void shutdown(0, 'stopping…'));

main().catch((err: unknown) => {
  const message = err instanceof StartError || err instanceof ConfigError ? err.message : firstLine(err);
  void shutdown(1, message);
});
