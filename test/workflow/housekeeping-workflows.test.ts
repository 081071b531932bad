/**
 * The snapshot, reconciliation and counts workflows, run by a real worker
 * against the run's dev server and FerretDB. (They have no timers, so nothing here needs
 * time skipping; the Schedules themselves are tested in
 * test/integration/compliance-snapshots-api.test.ts, as the time-skipping
 * server has no Schedules.)
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Db, MongoClient } from 'mongodb';
import { localDate } from '../../domain/calendar';
import { scanSummary } from '../../store/compliance';
import { countsReady, countsSummary, COUNTS_COLLECTIONS } from '../../store/compliance-counts';
import { COLLECTIONS } from '../../store/db';
import { writeProjection } from '../../store/read-model';
import { SNAPSHOTS_COLLECTION, type ComplianceSnapshot } from '../../store/snapshots';
import type { ReconcileResult } from '../../workflows/contracts';
import { ensureCountsAggregator } from '../../clients/dossiers';
import { createDossierWorker, type DossierWorkerDeps } from '../../workers/worker';
import { marchScenario } from '../support/domain-views';
import { MaintenanceWorker } from '../support/maintenance';
import { freshDatabase } from '../support/mongo';
import { pollUntil } from '../support/poll';
import { legalCounts } from '../support/compliance-figures';

let connection: Connection;
let nativeConnection: NativeConnection;
let temporal: Client;
let mongo: MongoClient;
let db: Db;
let maintenance: MaintenanceWorker;

const scenario = marchScenario();
const [, , , f4] = scenario;

beforeAll(async () => {
  const address = process.env.TEST_TEMPORAL_ADDRESS!;
  connection = await Connection.connect({ address });
  nativeConnection = await NativeConnection.connect({ address });
  temporal = new Client({ connection, namespace: 'default' });
  ({ client: mongo, db } = await freshDatabase('housekeeping'));
  maintenance = await MaintenanceWorker.start({ connection: nativeConnection, temporal, db });
});
afterAll(async () => {
  await maintenance?.stop();
  await nativeConnection?.close();
  await connection?.close();
  await mongo?.close();
});

const run = <T>(workflowType: string, args: unknown[], taskQueue = maintenance.taskQueue): Promise<T> =>
  temporal.workflow.execute(workflowType, { taskQueue, workflowId: `${workflowType}-${randomUUID()}`, args });
/** A worker of its own on the run's database (no dossier runs there: the gateway URL is never called). */
const workerOn = (taskQueue: string, extra: Pick<DossierWorkerDeps, 'temporal' | 'countsAggregator'>) =>
  createDossierWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    db,
    paymentGatewayUrl: 'http://127.0.0.1:9',
    workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
    ...extra,
  });
const snapshot = (day: string) => db.collection<ComplianceSnapshot>(SNAPSHOTS_COLLECTION).findOne({ _id: day });

describe('complianceSnapshotWorkflow', () => {
  beforeAll(async () => {
    // Every dossier of the scenario but F4 (due 2026-03-04, overdue), written in full.
    for (const d of scenario) if (d !== f4) for (const v of d.views) await writeProjection(db, v);
  });

  test("records a day's figures as they stand, by agency and by stage, with month to date; a rerun replaces it", async () => {
    const first = await run<{ day: string; workingDay: boolean }>('complianceSnapshotWorkflow', [{ day: '2026-03-04' }]);
    expect(first).toMatchObject({ day: '2026-03-04', workingDay: true, due: legalCounts(1, 0, 1, 0, 0, 0) });
    const before = await snapshot('2026-03-04');
    expect(before?.due.totals).toMatchObject(legalCounts(1, 0, 1, 0, 0, 0));

    // F4's projection lands late: the rerun sees it and replaces the day's snapshot.
    for (const v of f4!.views) await writeProjection(db, v);
    await run('complianceSnapshotWorkflow', [{ day: '2026-03-04' }]);
    const after = (await snapshot('2026-03-04'))!;
    expect(await db.collection(SNAPSHOTS_COLLECTION).countDocuments({ _id: '2026-03-04' as never })).toBe(1);
    expect(after.takenAt.getTime()).toBeGreaterThan(before!.takenAt.getTime());
    // Due on the 4th: F2's handoff (late) and F4's handoff (overdue).
    expect(after).toMatchObject({
      _id: '2026-03-04',
      schemaVersion: 1,
      day: '2026-03-04',
      month: '2026-03',
      workingDay: true,
      scheduledAt: null,
      due: {
        from: '2026-03-04',
        to: '2026-03-04',
        byAgency: [{ key: 'HL-TNMT', ...legalCounts(2, 0, 1, 0, 1, 0) }],
        byStage: [{ key: 'handoff', ...legalCounts(2, 0, 1, 0, 1, 0) }],
        totals: legalCounts(2, 0, 1, 0, 1, 0),
      },
      // Due 2 to 4 March: F1's handoff, F2's pickup, F3's handoff (on time), F2's handoff (late), F4's (overdue).
      monthToDate: {
        from: '2026-03-01',
        to: '2026-03-04',
        byAgency: [
          { key: 'HL-TNMT', ...legalCounts(3, 1, 1, 0, 1, 1 / 3) },
          { key: 'HL-UBND', ...legalCounts(1, 1, 0, 0, 0, 1) },
          { key: 'QN-STP', ...legalCounts(1, 1, 0, 0, 0, 1) },
        ],
        byStage: [
          { key: 'handoff', ...legalCounts(4, 2, 1, 0, 1, 1 / 2) },
          { key: 'pickup', ...legalCounts(1, 1, 0, 0, 0, 1) },
        ],
        totals: legalCounts(5, 3, 1, 0, 1, 3 / 5),
      },
    });
  });

  test('a non-working day is recorded too, marked as such, with nothing due', async () => {
    // Saturday 7 March 2026.
    await run('complianceSnapshotWorkflow', [{ day: '2026-03-07' }]);
    expect(await snapshot('2026-03-07')).toMatchObject({
      workingDay: false,
      due: { byAgency: [], byStage: [], totals: legalCounts(0, 0, 0, 0, 0, null) },
      // 2 to 6 March: F1 ×3, F2's pickup, F3, F5's handoff on time; F2's handoff late; F4 overdue.
      monthToDate: { from: '2026-03-01', to: '2026-03-07', totals: legalCounts(8, 6, 1, 0, 1, 6 / 8) },
    });
  });

  test('without a day and not started by a Schedule, it records the local day it ran', async () => {
    const today = localDate(Date.now());
    const result = await run<{ day: string }>('complianceSnapshotWorkflow', [{}]);
    // Around midnight local the run may land on the next day.
    expect([today, localDate(Date.now())]).toContain(result.day);
    expect(await snapshot(result.day)).toMatchObject({ scheduledAt: null, due: { totals: { total: 0 } } });
  });

  test('a day that is not a date fails the workflow at once', async () => {
    const failed = run('complianceSnapshotWorkflow', [{ day: '2026-02-30' }]);
    await expect(failed).rejects.toBeInstanceOf(WorkflowFailedError);
    await expect(failed).rejects.toMatchObject({ cause: { type: 'InvalidSnapshotInput' } });
  });
});

describe('reconcileReadModelWorkflow', () => {
  test('pages through the read model, continuing as new, and counts dossiers that have no workflow', async () => {
    // The scenario's dossiers exist only in the read model here: the non-terminal ones are looked up and not found.
    const result = await run<ReconcileResult>('reconcileReadModelWorkflow', [{ batchSize: 2, batchesPerRun: 2 }]);
    const docs = await db.collection(COLLECTIONS.dossiers).countDocuments();
    expect(docs).toBe(6);
    // 6 docs in batches of 2: 3 full pages and an empty last one, over two runs.
    expect(result).toEqual({ checked: 6, candidates: 4, repaired: 0, orphans: 0, notFound: 4, failed: 0, batches: 4 });
    // At the end of the pass it asked the counts' aggregator to check the counts against the records.
    expect(await db.collection(COUNTS_COLLECTIONS.requests).find({}).toArray()).toEqual([expect.objectContaining({ _id: expect.stringMatching(/^reconcile:/), reason: 'reconciliation pass done' })]);
  });

  test('a worker without a Temporal client refuses the pass instead of guessing', async () => {
    const taskQueue = `no-client-${randomUUID()}`;
    const worker = await workerOn(taskQueue, {});
    const failed = worker.runUntil(run('reconcileReadModelWorkflow', [{}], taskQueue));
    await expect(failed).rejects.toBeInstanceOf(WorkflowFailedError);
    await expect(failed).rejects.toMatchObject({ cause: { cause: { type: 'ReconcileUnavailable' } } });
  });

  test('refuses a batch size that is not a positive integer', async () => {
    const failed = run('reconcileReadModelWorkflow', [{ batchSize: 0 }]);
    await expect(failed).rejects.toMatchObject({ cause: { type: 'InvalidReconcileInput' } });
  });
});

describe('complianceCountsWorkflow', () => {
  const MARCH = { from: '2026-03-01', to: '2026-03-31', groupBy: 'stage' as const };

  test('refuses a run length or pass interval out of range', async () => {
    for (const input of [{ runForMinutes: 0 }, { runForMinutes: 61 }, { passIntervalMs: 10 }, { passIntervalMs: 1.5 }]) {
      await expect(run('complianceCountsWorkflow', [input])).rejects.toMatchObject({ cause: { type: 'InvalidCountsInput' } });
    }
  });

  test('builds the counts, serves the verification asked for, keeps them up to date and continues as new', async () => {
    expect(await countsReady(db)).toBe(false);
    const settings = { workflowId: `counts-${randomUUID()}`, taskQueue: maintenance.taskQueue, passIntervalMs: 100, runForMinutes: 0.02 };
    const chain = await ensureCountsAggregator(temporal, settings);
    const handle = temporal.workflow.getHandle(settings.workflowId);
    try {
      // Asking again keeps the running one.
      expect(await ensureCountsAggregator(temporal, settings)).toBe(chain);
      await pollUntil(() => db.collection(COUNTS_COLLECTIONS.requests).countDocuments(), (n) => n === 0);
      expect(await countsReady(db)).toBe(true);
      expect(await countsSummary(db, MARCH)).toEqual(await scanSummary(db, MARCH));

      // F4, left out above, is written now: the running aggregator takes it in.
      for (const v of f4.views) await writeProjection(db, v);
      const withF4 = await scanSummary(db, MARCH);
      expect(await pollUntil(() => countsSummary(db, MARCH), (s) => s.totals.total === withF4.totals.total)).toEqual(withF4);
      // Each run lasts about a second here (runForMinutes 0.02), then the workflow continues as new.
      const latest = await pollUntil(() => handle.describe(), (d) => d.runId !== chain, 50);
      expect(latest.runId).not.toBe(chain);
      expect(latest.status.name).toBe('RUNNING');
    } finally {
      await handle.terminate('test done');
    }
    // A terminated aggregator is started again by the next worker start.
    const again = await ensureCountsAggregator(temporal, settings);
    expect(again).not.toBe(chain);
    await temporal.workflow.getHandle(settings.workflowId).terminate('test done');
  });

  test('a reconciliation pass starts the aggregator again when someone terminated it', async () => {
    const settings = { workflowId: `counts-${randomUUID()}`, taskQueue: maintenance.taskQueue, passIntervalMs: 100 };
    const first = await ensureCountsAggregator(temporal, settings);
    await temporal.workflow.getHandle(settings.workflowId).terminate('by an operator, by mistake');
    // A maintenance worker as the worker process builds it: with the aggregator's settings.
    const taskQueue = `reconcile-${randomUUID()}`;
    const worker = await workerOn(taskQueue, { temporal, countsAggregator: settings });
    await worker.runUntil(run('reconcileReadModelWorkflow', [{}], taskQueue));
    const running = await temporal.workflow.getHandle(settings.workflowId).describe();
    try {
      expect(running.status.name).toBe('RUNNING');
      expect(running.runId).not.toBe(first);
    } finally {
      await temporal.workflow.getHandle(settings.workflowId).terminate('test done');
    }
  });
});
