/**
 * `npm start`: the whole system on one machine. What is not given by the
 * environment runs embedded, with its data under ./data:
 *   TEMPORAL_ADDRESS unset    → Temporal dev server (data/temporal.db), gRPC on TEMPORAL_PORT
 *                               (7233), Web UI on TEMPORAL_UI_PORT (8233)
 *   MONGODB_URI unset         → FerretDB (data/ferretdb/) on FERRETDB_PORT (27017)
 *   PAYMENT_GATEWAY_URL unset → the sandbox gateway (sandbox/payment-gateway.ts) on
 *                               PAYMENT_GATEWAY_PORT (3100)
 *   AUTH_JWT_SECRET unset     → a secret generated once into data/jwt-secret
 * TEMPORAL_PORT, TEMPORAL_UI_PORT, FERRETDB_PORT and PAYMENT_GATEWAY_PORT are read
 * here only (the API and worker never see them), so they are not in config/config.ts.
 *
 * Then the reference data is seeded (scripts/seed.ts), and the worker and the API
 * run as child processes; once GET /readyz answers 200 a banner says where things are.
 *
 * Output: every child writes to data/logs/<name>.log (emptied on each start), so
 * the terminal shows only this script's lines; a child that dies is named with
 * its log and last lines. Children run in their own process groups so that
 * Ctrl-C reaches only this script, which stops them in order: API and worker,
 * then the gateway, then Temporal and FerretDB.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config/config';
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
  type ExitInfo,
} from './servers';

const DATA = path.join(REPO_ROOT, 'data');
const LOGS = path.join(DATA, 'logs');
const READY_TIMEOUT_MS = 120_000;

/** A failure worth one line, without a stack. */
class StartError extends Error {}

interface Part {
  name: string;
  logFile: string | null;
  exited: Promise<ExitInfo>;
  stop(): Promise<void>;
}

const say = (line: string) => console.log(`start: ${line}`);
const rel = (p: string) => path.relative(process.cwd(), p) || p;
const exists = (file: string) => fs.existsSync(path.join(REPO_ROOT, file));

// Stopped in this order: apps (API, worker, seed), then the gateway, then the servers.
const apps: Part[] = [];
const gateways: Part[] = [];
const servers: Part[] = [];
let stopping: Promise<never> | null = null;

function shutdown(code: number, line: string): Promise<never> {
  if (stopping) return stopping;
  say(line);
  stopping = (async () => {
    const stopAll = (parts: Part[]) => Promise.all(parts.map((p) => p.stop().catch(() => undefined)));
    await stopAll(apps);
    await stopAll(gateways);
    await stopAll(servers);
    process.exit(code);
  })();
  return stopping;
}

/** A part that dies on its own takes everything down. */
function watch(part: Part): Part {
  void part.exited.then((info) => {
    if (!stopping) void shutdown(1, `${exitSummary(part.name, info, part.logFile)} — stopping everything`);
  });
  return part;
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

function spawnTs(name: string, file: string, env: NodeJS.ProcessEnv) {
  // `node --import tsx` runs the file in one process: signals and pids are the app's own.
  return spawnManaged(name, process.execPath, ['--import', 'tsx', file], { env, logFile: freshLog(name), detached: true });
}

const hidePassword = (uri: string) => uri.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');

async function main(): Promise<void> {
  fs.mkdirSync(LOGS, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  const embedTemporal = !env.TEMPORAL_ADDRESS;
  const embedMongo = !env.MONGODB_URI;
  const embedGateway = !env.PAYMENT_GATEWAY_URL;
  const temporalPort = portFromEnv('TEMPORAL_PORT', 7233);
  const uiPort = portFromEnv('TEMPORAL_UI_PORT', 8233);
  const ferretPort = portFromEnv('FERRETDB_PORT', 27017);
  const gatewayPort = portFromEnv('PAYMENT_GATEWAY_PORT', 3100);
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
  ports.push({ port: cfg.PORT, host: cfg.HOST, variable: 'PORT' });
  const portInUse = (port: number) =>
    new StartError(
      `port ${port} is in use — is another npm start running? Set ${ports.find((p) => p.port === port)?.variable ?? 'PORT'} to use another.`,
    );
  for (const { port, host } of ports) if (!(await isPortFree(port, host))) throw portInUse(port);

  // Temporal and FerretDB start side by side; whichever started is stopped if the other fails.
  const starting: Promise<Part>[] = [];
  if (embedMongo) {
    say(`starting FerretDB on 127.0.0.1:${ferretPort} (data/ferretdb)…`);
    starting.push(
      startFerretDB({ dataDir: path.join(DATA, 'ferretdb'), port: ferretPort, logFile: freshLog('ferretdb'), detached: true }),
    );
  }
  if (embedTemporal) {
    say(`starting the Temporal dev server on 127.0.0.1:${temporalPort} (data/temporal.db)…`);
    starting.push(
      startTemporalDevServer({
        dbFile: path.join(DATA, 'temporal.db'),
        port: temporalPort,
        uiPort,
        namespace: cfg.TEMPORAL_NAMESPACE,
        logFile: freshLog('temporal'),
        detached: true,
      }),
    );
  }
  const started = await Promise.allSettled(starting);
  for (const s of started) if (s.status === 'fulfilled') servers.push(watch(s.value));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    const reason: unknown = failed.reason;
    throw reason instanceof PortInUseError ? portInUse(reason.port) : reason;
  }

  if (embedGateway) {
    say(`starting the sandbox payment gateway on 127.0.0.1:${gatewayPort}…`);
    const gateway = spawnTs('payment-gateway', 'sandbox/payment-gateway.ts', { ...env, PORT: String(gatewayPort) });
    gateways.push(gateway);
    await waitUntil(gateway, 'the sandbox payment gateway', () => canConnect(gatewayPort));
    watch(gateway);
  }

  if (exists('scripts/seed.ts')) {
    say('loading reference data (scripts/seed.ts)…');
    const seed = spawnTs('seed', 'scripts/seed.ts', env);
    apps.push(seed);
    const info = await seed.exited;
    if (info.code !== 0) throw new StartError(`seeding failed: ${seed.describeExit()}`);
  } else {
    say('scripts/seed.ts does not exist yet: skipping the reference data');
  }

  say('starting the worker and the API…');
  apps.push(watch(spawnTs('worker', 'workers/main.ts', env)));
  const api = spawnTs('api', 'api/main.ts', env);
  apps.push(watch(api));
  const apiHost = ['0.0.0.0', '::'].includes(cfg.HOST) ? '127.0.0.1' : cfg.HOST;
  const readyz = `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${cfg.PORT}/readyz`;
  await waitUntil(
    api,
    `the API (GET ${readyz})`,
    async () => (await fetch(readyz, { signal: AbortSignal.timeout(2000) })).status === 200,
    READY_TIMEOUT_MS,
  );

  const apiUrl = `http://localhost:${cfg.PORT}`;
  const temporal = embedTemporal ? `http://localhost:${uiPort} (Web UI)` : `${env.TEMPORAL_ADDRESS} (external; no Web UI started here)`;
  console.log(
    [
      '',
      'start: ready — Ctrl-C stops everything',
      `  API          ${apiUrl}`,
      `  API docs     ${apiUrl}/docs`,
      `  Temporal     ${temporal}`,
      `  MongoDB      ${hidePassword(env.MONGODB_URI!)} (database ${cfg.MONGODB_DB})`,
      `  Logs         ${rel(LOGS)}/*.log`,
      '  A token:     npm run token -- --role manager',
      '',
    ].join('\n'),
  );
}

process.on('SIGINT', () => void shutdown(0, 'stopping…'));
process.on('SIGTERM', () => void shutdown(0, 'stopping…'));

main().catch((err: unknown) => {
  const message =
    err instanceof StartError || err instanceof ConfigError
      ? err.message
      : err instanceof Error
        ? err.message.split('\n')[0]!
        : String(err);
  void shutdown(1, message);
});
