/**
 * The child processes of `npm start` (scripts/start.ts), jest's global setup
 * and the benchmarks: spawning with their output kept for one-line error
 * messages, readiness waits, ports, and the provisioned binaries
 * (.tools/paths.json, written by scripts/provision.mjs).
 *
 * Children do not outlive this process: they stay in its process group by
 * default (a terminal Ctrl-C reaches them too), and an exit handler SIGKILLs
 * any still running when it exits, normally or on an uncaught error. Both
 * stores (SQLite) are crash-safe, so that last resort loses nothing committed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

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
export async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
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

export function runningServer(proc: ManagedProcess, url: string): RunningServer {
  return { name: proc.name, url, pid: proc.pid, stop: () => proc.stop(), exited: proc.exited, logFile: proc.logFile };
}

/** Runs the readiness wait; a server that never gets ready is stopped. */
export async function startOrStop<T>(proc: ManagedProcess, ready: () => Promise<T>): Promise<T> {
  try {
    return await ready();
  } catch (err) {
    await proc.stop();
    throw err;
  }
}
