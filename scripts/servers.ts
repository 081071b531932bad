/**
 * Starts and stops the local servers (FerretDB, the Temporal dev server) and
 * other child processes for `npm start` (scripts/start.ts) and jest's global
 * setup. Binaries come from .tools/paths.json, written by scripts/provision.mjs.
 *
 * Children do not outlive this process: they stay in its process group by
 * default (a terminal Ctrl-C reaches them too), and an exit handler SIGKILLs
 * any still running when it exits, normally or on an uncaught error. Both
 * stores (SQLite) are crash-safe, so that last resort loses nothing committed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';

export const REPO_ROOT = path.resolve(__dirname, '..');
const PATHS_FILE = path.join(REPO_ROOT, '.tools', 'paths.json');

export interface ToolPaths {
  temporal: string | null;
  temporalTestServer: string | null;
  ferretdb: string | null;
}

/** The provisioned binaries; TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH win over the file. */
export function toolPaths(): ToolPaths {
  let recorded: Partial<ToolPaths>;
  try {
    recorded = JSON.parse(fs.readFileSync(PATHS_FILE, 'utf8')) as Partial<ToolPaths>;
  } catch {
    throw new Error(`${path.relative(process.cwd(), PATHS_FILE) || PATHS_FILE} is missing or unreadable: run \`npm run provision\``);
  }
  return {
    temporal: process.env.TEMPORAL_CLI_PATH || recorded.temporal || null,
    temporalTestServer: process.env.TEMPORAL_TEST_SERVER_PATH || recorded.temporalTestServer || null,
    ferretdb: recorded.ferretdb || null,
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on host:port (we could bind it). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(false) : reject(err),
    );
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(readonly port: number, readonly host: string) {
    super(`port ${port} on ${host} is in use`);
  }
}

// Checked before spawning: otherwise a readiness probe could succeed against
// whatever already listens there while our child fails to bind.
async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  if (!(await isPortFree(port, host))) throw new PortInUseError(port, host);
}

/** Resolves true once host:port accepts a TCP connection. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// ------------------------------------------------------------ child processes

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string | null;
  /** Settles when the process has exited (never rejects). */
  exited: Promise<ExitInfo>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** How it ended plus the last lines of its output, for one-line error messages. */
  describeExit(): string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here; without it they are kept in memory for error messages only. */
  logFile?: string;
  /**
   * Own process group, so a terminal Ctrl-C reaches only the parent, which then
   * stops children in order (scripts/start.ts). The exit hook still applies.
   */
  detached?: boolean;
}

/** "<name> exited with code 1 (log: <file>): <last lines>", for one-line error messages. */
export function exitSummary(name: string, info: ExitInfo | null, logFile: string | null, output = ''): string {
  const how = !info
    ? 'is still running'
    : info.error
      ? `could not start (${info.error.message})`
      : info.signal
        ? `was killed by ${info.signal}`
        : `exited with code ${info.code}`;
  const text = logFile ? readTail(logFile) : output;
  const last = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-3)
    .join(' | ');
  const where = logFile ? ` (log: ${path.relative(process.cwd(), logFile) || logFile})` : '';
  return `${name} ${how}${where}${last ? `: ${last}` : ''}`;
}

function readTail(file: string, bytes = 4000): string {
  try {
    const size = fs.statSync(file).size;
    const handle = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size, bytes));
      fs.readSync(handle, buf, 0, buf.length, size - buf.length);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(handle);
    }
  } catch {
    return '';
  }
}

export function spawnManaged(name: string, command: string, args: readonly string[], opts: SpawnOptions = {}): ManagedProcess {
  installExitHook();
  const logFile = opts.logFile ?? null;
  let fd: number | null = null;
  if (logFile) {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fd = fs.openSync(logFile, 'a');
  }
  const child = spawn(command, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: opts.env ?? process.env,
    detached: opts.detached ?? false,
    stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
  });
  if (fd !== null) fs.closeSync(fd);

  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let info: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      info = { code, signal };
      resolve(info);
    });
    // Failure to spawn (ENOENT, EACCES): no 'exit' follows. Other errors (a failed kill) are harmless here.
    child.on('error', (error) => {
      if (child.pid === undefined) {
        info = { code: null, signal: null, error };
        resolve(info);
      }
    });
  }).finally(() => live.delete(child));
  live.add(child);

  const proc: ManagedProcess = {
    name,
    pid: child.pid ?? -1,
    logFile,
    exited,
    isRunning: () => info === null,
    async stop(graceMs = 10_000) {
      if (info) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    describeExit: () => exitSummary(name, info, logFile, tail),
  };
  return proc;
}

/** Polls `probe` until it returns true; fails early when the process exits, or after `timeoutMs`. */
export async function waitUntil(
  proc: ManagedProcess | null,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && !proc.isRunning()) throw new Error(`${what} did not start: ${proc.describeExit()}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} was not ready within ${Math.round(timeoutMs / 1000)} s${proc ? `: ${proc.describeExit()}` : ''}`);
}

export interface RunningServer {
  name: string;
  /** Where it answers (a connection string or host:port), for messages. */
  url: string;
  pid: number;
  stop(): Promise<void>;
  /** Settles when the process exits, expectedly or not. */
  exited: Promise<ExitInfo>;
  logFile: string | null;
}

function runningServer(proc: ManagedProcess, url: string): RunningServer {
  return { name: proc.name, url, pid: proc.pid, stop: () => proc.stop(), exited: proc.exited, logFile: proc.logFile };
}

async function startOrStop<T>(proc: ManagedProcess, ready: () => Promise<T>): Promise<T> {
  try {
    return await ready();
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

// ------------------------------------------------------------------- FerretDB

let ferretFlavour: { bin: string; wrapper: boolean } | null = null;

/**
 * tools/ferretdb (our wrapper) takes --sqlite-dir; an upstream `ferretdb` found
 * on PATH takes FerretDB's own flags. Told apart by their --help.
 */
function ferretdbArgs(bin: string, dataDir: string, port: number): string[] {
  if (ferretFlavour?.bin !== bin) {
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 10_000 });
    ferretFlavour = { bin, wrapper: `${help.stdout}${help.stderr}`.includes('sqlite-dir') };
  }
  const listen = `127.0.0.1:${port}`;
  return ferretFlavour.wrapper
    ? ['--listen-addr', listen, '--sqlite-dir', dataDir, '--log-level', 'warn']
    : [
        `--listen-addr=${listen}`,
        '--handler=sqlite',
        `--sqlite-url=file:${dataDir}/`,
        `--state-dir=${dataDir}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
      ];
}

async function mongoPing(uri: string): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1;
  } finally {
    await client.close();
  }
}

export async function startFerretDB(opts: {
  dataDir: string;
  /** Another build than the provisioned one (bench/scale.ts compares the unpatched build). */
  bin?: string;
  port?: number;
  logFile?: string;
  detached?: boolean;
}): Promise<RunningServer & { uri: string }> {
  const bin = opts.bin ?? toolPaths().ferretdb;
  if (!bin) throw new Error('FerretDB is not provisioned: run `npm run provision`');
  const port = opts.port ?? (await freePort());
  if (opts.port !== undefined) await assertPortFree(port);
  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });

  const proc = spawnManaged('ferretdb', bin, ferretdbArgs(bin, dataDir, port), {
    logFile: opts.logFile,
    detached: opts.detached,
  });
  const uri = `mongodb://127.0.0.1:${port}`;
  await startOrStop(proc, () => waitUntil(proc, `FerretDB on 127.0.0.1:${port}`, () => mongoPing(uri)));
  return { ...runningServer(proc, uri), uri };
}

// ------------------------------------------------------- Temporal dev server

/** Custom search attributes the workflows set and the API filters on. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Datetime' | 'Bool'> = {
  DossierStatus: 'Keyword',
  AgencyId: 'Keyword',
  ProcedureCode: 'Keyword',
  NextDueAt: 'Datetime',
  Overdue: 'Bool',
};

// temporal.api.enums.v1.IndexedValueType numbers (@temporalio/proto is not a direct dependency).
const INDEXED_VALUE_TYPE = { Keyword: 2, Bool: 5, Datetime: 6 } as const;

async function temporalReady(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.getSystemInfo({});
    // The namespace is created at launch (`default` always is); wait until it is served.
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

/** start-dev registers --search-attribute only on a fresh database: add what an older one lacks. */
async function ensureSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing: Record<string, number> = {};
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
      const existing = customAttributes?.[name];
      if (existing === undefined) missing[name] = INDEXED_VALUE_TYPE[type];
      else if (existing !== INDEXED_VALUE_TYPE[type]) {
        throw new Error(`search attribute ${name} exists in namespace ${namespace} with another type (want ${type}); use a fresh --db-filename`);
      }
    }
    if (Object.keys(missing).length) {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    }
  } finally {
    await connection.close();
  }
}

/** Without TEMPORAL_* variables: the CLI reads them as client settings, which a server must not pick up. */
function envWithoutTemporal(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
}

/**
 * `uiPort`: a port for the Web UI, `null` for none (--headless); omitted, a free port.
 */
export async function startTemporalDevServer(opts: {
  dbFile: string;
  port?: number;
  uiPort?: number | null;
  namespace?: string;
  logFile?: string;
  detached?: boolean;
}): Promise<RunningServer & { address: string; uiUrl: string | null }> {
  const bin = toolPaths().temporal;
  if (!bin) {
    throw new Error('the Temporal CLI is not provisioned (TEMPORAL_ADDRESS was set): run `npm run provision` without it, or set TEMPORAL_CLI_PATH');
  }
  const namespace = opts.namespace ?? 'default';
  const port = opts.port ?? (await freePort());
  if (opts.port !== undefined) await assertPortFree(port);
  const uiPort = opts.uiPort === undefined ? await freePort() : opts.uiPort;
  if (opts.uiPort) await assertPortFree(opts.uiPort);
  const dbFile = path.resolve(opts.dbFile);
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });

  const args = [
    'server', 'start-dev',
    '--db-filename', dbFile,
    '--ip', '127.0.0.1',
    '--port', String(port),
    ...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]),
    // `default` always exists; naming it again is redundant.
    ...(namespace === 'default' ? [] : ['--namespace', namespace]),
    '--log-level', 'warn',
    // Concurrent readers (UI, visibility) do not block the writer.
    '--sqlite-pragma', 'journal_mode=wal',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  const proc = spawnManaged('temporal', bin, args, {
    logFile: opts.logFile,
    env: envWithoutTemporal(),
    detached: opts.detached,
  });
  const address = `127.0.0.1:${port}`;
  await startOrStop(proc, async () => {
    await waitUntil(proc, `the Temporal dev server on ${address}`, () => temporalReady(address, namespace));
    await ensureSearchAttributes(address, namespace);
  });
  return {
    ...runningServer(proc, address),
    address,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
  };
}
