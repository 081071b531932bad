/**
 * The API as the process operators run (`api/main.ts`), against the run's real
 * Temporal dev server and FerretDB: graceful shutdown lets an in-flight
 * request finish before the process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { MongoClient } from 'mongodb';
import { signToken } from '../../api/auth';
import { createDossierWorker } from '../../workers/worker';
import { submission } from '../support/fixtures';
import { freshDatabase } from '../support/mongo';

const SECRET = 'api-process-test-secret-of-32-chars-or-more';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the API did not come up');
}

let mongo: MongoClient;
let dbName: string;
let child: ChildProcess | undefined;
let worker: Worker | undefined;
let workerRun: Promise<void> | undefined;
let connection: NativeConnection | undefined;

beforeAll(async () => {
  ({ client: mongo, name: dbName } = await freshDatabase('api-process'));
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  worker?.shutdown();
  await workerRun;
  await connection?.close();
  await mongo?.close();
});

test('SIGTERM lets an in-flight submission finish with 201, then the process exits 0', async () => {
  const port = await freePort();
  const taskQueue = `api-process-${randomUUID()}`;
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  child = spawn(process.execPath, [require.resolve('tsx/cli'), 'api/main.ts'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MONGODB_URI: process.env.TEST_MONGODB_URI,
      MONGODB_DB: dbName,
      AUTH_JWT_SECRET: SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  await waitForHealth(url, child);

  // No worker polls yet, so the submission waits on the workflow's registration.
  const sub = submission({ payment: { method: 'cash' } });
  const inFlight = fetch(`${url}/v1/dossiers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${signToken(SECRET, { sub: 'portal-test', role: 'portal' })}`, 'content-type': 'application/json' },
    body: JSON.stringify(sub),
  });
  await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  // Stopped accepting: a new connection is refused while the old request is still open.
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  expect(child.exitCode).toBeNull();

  connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  worker = await createDossierWorker({
    connection,
    namespace: 'default',
    taskQueue,
    db: mongo.db(dbName),
    paymentGatewayUrl: 'http://127.0.0.1:9',
    workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
  });
  workerRun = worker.run();

  const res = await inFlight;
  expect(res.status).toBe(201);
  expect(await res.json()).toMatchObject({ code: sub.code, status: 'submitted' });
  expect(await exited).toBe(0);
  expect(output).not.toMatch(/error/i);
});
