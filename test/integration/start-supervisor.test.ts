/**
 * `npm start`'s supervisor (scripts/start.ts) as operators run it, with its own
 * servers on free ports and its data in a temporary folder: the workflow code
 * is bundled once into the data folder, so a worker or API killed with SIGKILL
 * is started again (the worker on that bundle) while the servers stay up; a killed
 * supervisor takes the worker and API with it, and the next start stops the
 * servers it left and comes up on the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { signToken } from '../../api/auth';
import { isAlive, readChildren, stopGroup, type ChildrenFile } from '../../scripts/children';
import { freePort, REPO_ROOT } from '../../scripts/servers';
import { submission } from '../support/fixtures';

const SECRET = 'start-supervisor-test-secret-of-32-chars';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dataDir: string;
let env: NodeJS.ProcessEnv;
let apiUrl: string;
const supervisors: ChildProcess[] = [];

interface Supervisor {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startSupervisor(): Supervisor {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  supervisors.push(proc);
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, context = () => ''): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms\n${context()}`);
    await sleep(200);
  }
}

const children = () => readChildren(path.join(dataDir, 'children.json'));
const pidOf = (record: ChildrenFile | null, role: string) => record?.children.find((c) => c.role === role)?.pid;

async function ready(s: Supervisor): Promise<void> {
  await until('npm start ready', () => s.output().includes('start: ready') || s.proc.exitCode !== null, 60_000, s.output);
  if (s.proc.exitCode !== null) throw new Error(`npm start exited:\n${s.output()}`);
}

/** Until the role runs under a pid other than `old`. */
const restarted = (s: Supervisor, role: string, old: number) =>
  until(`${role} started again`, () => {
    const pid = pidOf(children(), role);
    return pid !== undefined && pid !== old && pid;
  }, 20_000, s.output);

async function submit(body: unknown): Promise<{ status: number; body: { code?: string; status?: string } }> {
  const token = signToken(SECRET, { sub: 'portal-test', role: 'portal' });
  // A 503 (the worker not polling yet) leaves nothing that a retry of the same submission would duplicate.
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${apiUrl}/v1/dossiers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch(() => null);
    if (res && res.status !== 503) return { status: res.status, body: (await res.json()) as { code?: string; status?: string } };
    if (attempt > 30) throw new Error(`submission kept failing: ${res?.status ?? 'no answer'}`);
    await sleep(500);
  }
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(process.env.TEST_TMP_DIR!, 'start-'));
  const [temporal, ui, ferret, gateway, api] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  apiUrl = `http://127.0.0.1:${api}`;
  env = { ...process.env };
  for (const name of ['TEMPORAL_ADDRESS', 'MONGODB_URI', 'PAYMENT_GATEWAY_URL']) delete env[name];
  Object.assign(env, {
    DATA_DIR: dataDir,
    TEMPORAL_PORT: String(temporal),
    TEMPORAL_UI_PORT: String(ui),
    FERRETDB_PORT: String(ferret),
    PAYMENT_GATEWAY_PORT: String(gateway),
    HOST: '127.0.0.1',
    PORT: String(api),
    AUTH_JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn',
  });
});

afterAll(async () => {
  for (const s of supervisors) if (s.exitCode === null) s.kill('SIGKILL');
  await Promise.all((children()?.children ?? []).filter((c) => isAlive(c.pid)).map((c) => stopGroup(c.pgid, 2000)));
});

test('a killed worker or API is started again; a killed supervisor is cleaned up by the next start', async () => {
  const first = startSupervisor();
  await ready(first);
  expect(first.output()).toMatch(/bundled the workflow code into .*workflow-bundle\.js/);
  expect(fs.existsSync(path.join(dataDir, 'workflow-bundle.js'))).toBe(true);
  const servers = ['ferretdb', 'temporal', 'payment-gateway'].map((role) => pidOf(children(), role)!);
  expect(servers.every((pid) => pid > 0 && isAlive(pid))).toBe(true);

  // The worker: started again, and a submission (which needs it) completes.
  const workerLog = () => fs.readFileSync(path.join(dataDir, 'logs', 'worker.log'), 'utf8');
  const polls = (n: number) => until(`worker start ${n} polls`, () => workerLog().split('worker: polling task queue').length > n, 30_000, workerLog);
  await polls(1);
  const worker = pidOf(children(), 'worker')!;
  process.kill(worker, 'SIGKILL');
  const worker2 = await restarted(first, 'worker', worker);
  expect(first.output()).toMatch(/worker was killed by SIGKILL .* starting it again in 1 s/);
  await polls(2);
  // On the supervisor's bundle: neither start of the worker bundled the code itself.
  expect(workerLog()).not.toContain('bundling the code here');
  const sub = submission();
  const created = await submit(sub);
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ code: sub.code });

  // The API: started again and answering.
  const api = pidOf(children(), 'api')!;
  process.kill(api, 'SIGKILL');
  const api2 = await restarted(first, 'api', api);
  await until('the API answers again', () => fetch(`${apiUrl}/healthz`).then((r) => r.ok, () => false), 20_000, first.output);
  // The servers were not touched.
  expect(servers.every(isAlive)).toBe(true);

  // The supervisor: its worker and API stop by themselves; the servers are left running.
  first.proc.kill('SIGKILL');
  await until('the worker and API stop with their supervisor', () => !isAlive(worker2) && !isAlive(api2), 20_000);
  expect(servers.every(isAlive)).toBe(true);

  // The next start stops what was left and comes up on the same data.
  const second = startSupervisor();
  await ready(second);
  // The sources did not change: the bundle of the first start is used again.
  expect(second.output()).not.toContain('bundled the workflow code');
  expect(second.output()).toContain('stopping what an earlier start left running: ferretdb');
  expect(servers.some(isAlive)).toBe(false);
  const again = await submit(sub);
  expect([200, 201]).toContain(again.status);
  expect(again.body).toMatchObject({ code: sub.code });

  // Ctrl-C (SIGTERM here) stops everything and clears the record.
  const running = children()!.children.map((c) => c.pid);
  second.proc.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  expect(running.some(isAlive)).toBe(false);
  expect(children()).toBeNull();
}, 150_000);
