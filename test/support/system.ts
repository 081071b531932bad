import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Db, MongoClient } from 'mongodb';
import pino from 'pino';
import { createApp } from '../../api/app';
import type { DeadlineSettings } from '../../api/deadline';
import { signToken } from '../../api/auth';
import { ApiMetrics } from '../../api/metrics';
import type { Role } from '../../domain/types';
import { startPaymentSandbox, type PaymentSandbox } from '../../sandbox/payment-gateway';
import { COUNTS_COLLECTIONS, requestCountsVerification } from '../../store/compliance-counts';
import { DossierClient, ensureCountsAggregator } from '../../clients/dossiers';
import { createDossierWorker, type WorkerCapacity } from '../../workers/worker';
import { assertConforms } from './conformance';
import { freshDatabase } from './mongo';

export const JWT_SECRET = 'integration-test-secret-of-at-least-32-chars';

/**
 * The whole system over HTTP against the run's real Temporal dev server and
 * FerretDB: a worker, the API on a free port, the sandbox payment gateway.
 */
export class System {
  private runPromise!: Promise<void>;
  /** The workflows as the API sees them (the same Temporal client, the same task queue). */
  readonly dossiers: DossierClient;
  private constructor(
    readonly baseUrl: string,
    readonly server: Server,
    readonly temporal: Client,
    readonly connection: Connection,
    readonly nativeConnection: NativeConnection,
    public worker: Worker,
    readonly db: Db,
    readonly mongo: MongoClient,
    readonly gateway: PaymentSandbox,
    readonly countsWorkflowId: string,
    taskQueue: string,
  ) {
    this.dossiers = new DossierClient(temporal, taskQueue);
  }

  /**
   * `log` receives the API's request log (silent when absent); `capacity`
   * overrides the worker's slots and stop bounds (a short grace by default,
   * so tests stop fast); `workerDb` and `apiDb` give the worker or the API
   * their own client to the test's database, `apiTemporalAddress` the API
   * its own way to Temporal (through a test/support/tcp-proxy.ts, say);
   * `deadlines` the API's request deadlines (generous by default: the shared
   * test machine can be slow, and deadlines.test.ts checks the real ones).
   */
  static async start(
    label: string,
    opts: {
      log?: pino.Logger;
      capacity?: Partial<WorkerCapacity>;
      workerDb?: (name: string) => Db;
      apiDb?: (name: string) => Db;
      apiTemporalAddress?: string;
      deadlines?: DeadlineSettings;
      registrationTimeoutMs?: number;
    } = {},
  ): Promise<System> {
    const address = process.env.TEST_TEMPORAL_ADDRESS!;
    const { client: mongo, db, name } = await freshDatabase(label);
    const gateway = await startPaymentSandbox({ slowMs: 200 });
    const taskQueue = `it-${randomUUID()}`;
    const nativeConnection = await NativeConnection.connect({ address });
    const newWorker = () => createDossierWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      db: opts.workerDb ? opts.workerDb(name) : db,
      paymentGatewayUrl: gateway.url,
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      capacity: { shutdownGraceMs: 200, ...opts.capacity },
    });
    const worker = await newWorker();
    const connection = await Connection.connect({ address: opts.apiTemporalAddress ?? address });
    const metrics = new ApiMetrics();
    const temporal = new Client({ connection, namespace: 'default', interceptors: { workflow: [metrics.temporalInterceptor()] } });
    const app = createApp({
      temporal,
      db: opts.apiDb ? opts.apiDb(name) : db,
      deadlines: opts.deadlines ?? { readMs: 15_000, writeMs: 30_000 },
      ...(opts.registrationTimeoutMs !== undefined ? { registrationTimeoutMs: opts.registrationTimeoutMs } : {}),
      jwtSecret: JWT_SECRET,
      taskQueue,
      settings: { supplementRule: 'restart', classOneProvinces: [] },
      log: opts.log ?? pino({ level: 'silent' }),
      metrics,
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    const countsWorkflowId = `compliance-counts-${taskQueue}`;
    const system = new System(`http://127.0.0.1:${port}`, server, temporal, connection, nativeConnection, worker, db, mongo, gateway, countsWorkflowId, taskQueue);
    system.runPromise = worker.run();
    system.newWorker = newWorker;
    // As the worker process does: the compliance counts' aggregator, passing often so tests wait little.
    await ensureCountsAggregator(temporal, { workflowId: countsWorkflowId, taskQueue, passIntervalMs: 100 });
    return system;
  }

  async stop(): Promise<void> {
    await this.temporal.workflow.getHandle(this.countsWorkflowId).terminate('test system stopped').catch(() => undefined);
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
    await this.stopWorker();
    await this.connection.close();
    await this.nativeConnection.close();
    await this.gateway.close();
    await this.mongo.close();
  }

  private newWorker!: () => Promise<Worker>;

  /** Starts a new worker on the same task queue (after `stopWorker`). */
  async restartWorker(): Promise<void> {
    await this.stopWorker();
    this.worker = await this.newWorker();
    this.runPromise = this.worker.run();
  }

  /** Stops the worker (if it still runs) and settles when it has stopped, rejecting as its run did. */
  async stopWorker(): Promise<void> {
    if (this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.runPromise;
  }

  /**
   * Waits until the compliance counts hold every deadline record as it is now:
   * asks the aggregator to verify them against the records (which also covers
   * records a test inserted directly), then waits for that and for every
   * pending change to be applied. With `verify: false`, only waits for the
   * pending changes and for verifications others asked for.
   */
  async countsSettled(opts: { verify?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const { verify = true, timeoutMs = 30_000 } = opts;
    if (verify) await requestCountsVerification(this.db, 'test', `test-${randomUUID()}`);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const [asked, pending] = await Promise.all([
        this.db.collection(COUNTS_COLLECTIONS.requests).countDocuments({}),
        this.db.collection(COUNTS_COLLECTIONS.changes).countDocuments({}),
      ]);
      if (!asked && !pending) return;
      if (Date.now() > until) throw new Error(`compliance counts not settled after ${timeoutMs} ms (verification ${asked ? 'pending' : 'done'}, ${pending} changes pending)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  token(role: Role, extra: { agencyId?: string; courierId?: string } = {}): string {
    return signToken(JWT_SECRET, { sub: `${role}-test`, role, ...extra });
  }

  /**
   * One request; the answer is checked against the OpenAPI document (status,
   * content type, body schema) unless `conformance: false`, for the few tests
   * that send what no client of the contract would.
   */
  async request(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string>; conformance?: boolean } = {}) {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    if (opts.conformance !== false) assertConforms(method, path, { status: res.status, headers: res.headers, body });
    return { status: res.status, headers: res.headers, body };
  }
}
