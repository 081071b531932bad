import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { ServiceError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Db, MongoClient } from 'mongodb';
import type { DossierView } from '../../domain/dossier';
import type { EventCommand, Refusal } from '../../domain/events';
import { dossierContextYears, type Submission } from '../../domain/types';
import { startPaymentSandbox, type PaymentSandbox } from '../../sandbox/payment-gateway';
import { findDossier } from '../../store/read-model';
import { ReferenceData, completeContext } from '../../store/reference-data';
import { addCalendarDays, dayOfWeek, formatInstant, localDate } from '../../domain/calendar';
import { DossierClient } from '../../clients/dossiers';
import { SEARCH_ATTRIBUTE_INDEXED_TYPES } from '../../clients/search-attributes';
import { createDossierWorker } from '../../workers/worker';
import { historyToJSON } from './history-json';
import { freshDatabase } from './mongo';
import type { dossierWorkflow } from '../../workflows';

/**
 * Bump when a workflow change is patched, then record: v1 before the patches of
 * 2026-11-27; v2 with registration-answers-after-projection and
 * calendar-refreshed-by-signal-only; v3 also with effects-run-in-lanes; v4 also with
 * lifecycle-rules-v2; v5 also with read-model-writes-local (local read-model writes,
 * search attributes upserted on change); v6 also with dossier-context-local (registered in
 * the first workflow task, submitted by update-with-start); v7 with lean-registration-task only (one
 * marker for every switch before it, the reference data in the input, the first local write in the
 * second task).
 */
const HISTORY_GENERATION = 'v7';

/** A submission's update-with-start deadline (see `submit`); registering takes well under a second. */
const SUBMIT_DEADLINE_MS = 5_000;

export type Actor = EventCommand['actor'];
export const portal: Actor = { role: 'portal', id: 'portal' };
export const agency = (agencyId = 'HL-TNMT'): Actor => ({ role: 'agency', id: `desk-${agencyId}`, agencyId });
export const courier = (courierId = 'HL-BT01'): Actor => ({ role: 'courier', id: `c-${courierId}`, courierId });
export const clerk: Actor = { role: 'clerk', id: 'clerk-1' };

/**
 * Time-skipping Temporal, a real worker with the real activities against a
 * fresh FerretDB database, and the sandbox payment gateway.
 */
export class WorkflowHarness {
  private runPromise!: Promise<void>;
  readonly dossiers: DossierClient;
  private constructor(
    readonly env: TestWorkflowEnvironment,
    public worker: Worker,
    readonly db: Db,
    readonly mongo: MongoClient,
    readonly gateway: PaymentSandbox,
    readonly taskQueue: string,
    readonly settings: { supplementRule: 'restart' | 'pause'; classOneProvinces: string[] },
    private readonly maxCachedWorkflows: number | undefined,
  ) {
    this.dossiers = new DossierClient(env.client, taskQueue);
  }

  /**
   * `stickyCache: false` runs workers without a workflow cache (every task replays
   * the history): needed to replace a worker, since the time-skipping test server
   * keeps sending a workflow's tasks to the sticky queue of the worker that left.
   */
  static async create(
    opts: { supplementRule?: 'restart' | 'pause'; gatewaySlowMs?: number; label?: string; stickyCache?: boolean } = {},
  ): Promise<WorkflowHarness> {
    const env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: process.env.TEMPORAL_TEST_SERVER_PATH! } },
    });
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: SEARCH_ATTRIBUTE_INDEXED_TYPES,
    });
    const { client, db } = await freshDatabase(opts.label ?? 'wf');
    // The test server's clock starts at real now: give the years a test can reach a calendar
    // of weekends only, so expected dues do not depend on the day the suite runs.
    const refs = new ReferenceData(db);
    const year = new Date((await env.currentTimeMs()) as number).getUTCFullYear();
    for (const y of [year, year + 1, year + 2]) await refs.putCalendar({ year: y, holidays: [], workingDays: [] });
    const gateway = await startPaymentSandbox({ slowMs: opts.gatewaySlowMs ?? 200 });
    const taskQueue = `dossiers-${randomUUID()}`;
    const maxCachedWorkflows = opts.stickyCache === false ? 0 : undefined;
    const worker = await WorkflowHarness.newWorker(env, taskQueue, db, gateway.url, maxCachedWorkflows);
    const h = new WorkflowHarness(
      env,
      worker,
      db,
      client,
      gateway,
      taskQueue,
      { supplementRule: opts.supplementRule ?? 'restart', classOneProvinces: [] },
      maxCachedWorkflows,
    );
    h.runPromise = worker.run();
    return h;
  }

  private static newWorker(env: TestWorkflowEnvironment, taskQueue: string, db: Db, paymentGatewayUrl: string, maxCachedWorkflows?: number): Promise<Worker> {
    return createDossierWorker({
      maxCachedWorkflows,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      db,
      paymentGatewayUrl,
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      // Tests stop workers often: in-flight activities are cancelled at once.
      capacity: { shutdownGraceMs: 0 },
    });
  }

  /**
   * Shuts the running worker down (its workflows stay on the server, unattended).
   * Replacing a worker needs `stickyCache: false`; and do not advance the clock
   * while none runs: the test server holds its clock while a workflow task waits.
   */
  async stopWorker(): Promise<void> {
    this.worker.shutdown();
    await this.runPromise;
  }

  /** A new worker on the same task queue (a fresh process would see the same: no workflow cache). */
  async startWorker(): Promise<void> {
    this.worker = await WorkflowHarness.newWorker(this.env, this.taskQueue, this.db, this.gateway.url, this.maxCachedWorkflows);
    this.runPromise = this.worker.run();
  }

  async restartWorker(): Promise<void> {
    await this.stopWorker();
    await this.startWorker();
  }

  /**
   * With `RECORD_HISTORIES=1`, saves a finished workflow's history to
   * `test/histories/<generation>-<name>.json` for the replay test
   * (test/workflow/replay.test.ts). Older generations stay: they are the
   * dossiers still running the code from before each patch.
   */
  async recordHistory(code: string, name: string): Promise<void> {
    if (process.env.RECORD_HISTORIES !== '1') return;
    const history = await this.handle(code).fetchHistory();
    const dir = join(__dirname, '..', 'histories');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${HISTORY_GENERATION}-${name}.json`), `${JSON.stringify(historyToJSON(history), null, 2)}\n`);
  }

  async close(): Promise<void> {
    if (this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.runPromise;
    await this.gateway.close();
    await this.mongo.close();
    await this.env.teardown();
  }

  handle(code: string): WorkflowHandle<typeof dossierWorkflow> {
    return this.dossiers.handle(code);
  }

  /**
   * Submits a dossier and waits until it is registered, in one call as the API does (update-with-start),
   * with the reference data as the API reads them; `withContext: false` leaves them for the workflow to read.
   *
   * The call carries a gRPC deadline: the time-skipping server (temporal-test-server 1.40.0) reads
   * the call's deadline while it waits for the update, and a call without one can fail there
   * (NullPointerException, answered as gRPC UNKNOWN, which the client then retries for about 30 s).
   */
  async submit(sub: Submission, opts: { withContext?: boolean } = {}): Promise<DossierView> {
    const context =
      opts.withContext === false ? undefined : completeContext(await new ReferenceData(this.db).dossierContext(sub.procedureCode, sub.agencyId, dossierContextYears(sub.submittedAt)));
    try {
      const { outcome, view } = await this.env.client.withDeadline(Date.now() + SUBMIT_DEADLINE_MS, () =>
        this.dossiers.submitAndRegister({ submission: sub, settings: this.settings, context }),
      );
      if (outcome !== 'started') throw new Error(`dossier ${sub.code} not started: ${outcome}`);
      if (view) return view;
    } catch (err) {
      if (!(err instanceof ServiceError) || !(await this.exists(sub.code))) throw err;
    }
    // Started, its answer past the deadline: the registration asked again by a plain update.
    const view = await this.dossiers.registeredView(sub.code);
    if (!view) throw new Error(`dossier ${sub.code} not registered`);
    return view;
  }

  private async exists(code: string): Promise<boolean> {
    return this.handle(code)
      .describe()
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );
  }

  /** Applies an event and returns the view; throws if it was refused. */
  async event(code: string, actor: Actor, event: EventCommand['event'], extra: { occurredAt?: string; eventId?: string } = {}): Promise<DossierView> {
    const applied = await this.dossiers.applyEvent(code, { event, actor, ...extra }, extra.eventId);
    if (applied.outcome === 'applied') return applied.view;
    throw new Error(`${event.type} was not applied: ${applied.outcome === 'refused' ? `${applied.refusal.type}: ${applied.refusal.detail}` : 'the workflow is closed'}`);
  }

  /** The refusal an event meets, or throws if it was accepted. */
  async refusal(code: string, actor: Actor, event: EventCommand['event'], extra: { occurredAt?: string } = {}): Promise<Refusal> {
    const applied = await this.dossiers.applyEvent(code, { event, actor, ...extra });
    if (applied.outcome === 'refused') return applied.refusal;
    throw new Error(`${event.type} was ${applied.outcome === 'applied' ? 'accepted' : 'not applied: the workflow is closed'}`);
  }

  async view(code: string): Promise<DossierView> {
    return (await this.dossiers.view(code))!;
  }

  /** Waits (in real time) until the workflow's view satisfies `predicate`: background effects run in activities. */
  async until(code: string, predicate: (v: DossierView) => boolean, what = 'condition'): Promise<DossierView> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const v = await this.view(code);
      if (predicate(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; status ${v.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The workflow's result once it has finished, read from its history. Never
   * `handle.result()`: it unlocks time skipping and the test server then jumps
   * its clock ten years ahead (even for a workflow already completed), out of
   * the weekends-only calendar years the later tests rely on.
   */
  async result(code: string): Promise<DossierView> {
    const end = Date.now() + 15_000;
    let status: string;
    while ((status = (await this.handle(code).describe()).status.name) === 'RUNNING') {
      if (Date.now() > end) throw new Error(`workflow for ${code} still running`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (status !== 'COMPLETED') throw new Error(`workflow for ${code} ended ${status}`);
    const events = (await this.handle(code).fetchHistory()).events ?? [];
    const payload = events.at(-1)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
    return defaultPayloadConverter.fromPayload<DossierView>(payload!);
  }

  /** Advances the test server's clock to an instant (time skipping). */
  async advanceTo(iso: string): Promise<void> {
    const target = Date.parse(iso);
    const now = (await this.env.currentTimeMs()) as number;
    if (target > now) await this.env.sleep(target - now);
  }

  /** The first Monday at least two days ahead of the test server's clock. */
  async nextMonday(): Promise<string> {
    let day = addCalendarDays(localDate((await this.env.currentTimeMs()) as number), 2);
    while (dayOfWeek(day) !== 1) day = addCalendarDays(day, 1);
    return day;
  }

  async now(): Promise<string> {
    return formatInstant((await this.env.currentTimeMs()) as number);
  }

  async readModel(code: string) {
    return findDossier(this.db, code);
  }

  async outbox(code: string) {
    return this.db.collection('outbox').find({ dossierCode: code }).sort({ createdAt: 1 }).toArray();
  }

  async ledger(code: string) {
    return this.db.collection('ledger').find({ dossierCode: code }).toArray();
  }

  async jobs(code: string) {
    return this.db.collection('courier_jobs').find({ dossierCode: code }).sort({ createdAt: 1 }).toArray();
  }
}
