import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Db } from 'mongodb';
import { createDossierWorker } from '../../workers/worker';

/**
 * A second worker, on its own task queue, built with a Temporal client: it
 * runs the snapshot and reconciliation workflows (test/support/system.ts's
 * worker has no client, so it cannot reconcile). Dossier workflows stay on
 * their own worker, which answers the reconciliation's queries.
 */
export class MaintenanceWorker {
  private constructor(
    readonly taskQueue: string,
    readonly worker: Worker,
    private readonly running: Promise<void>,
  ) {}

  static async start(deps: { connection: NativeConnection; temporal: Client; db: Db; paymentGatewayUrl?: string }): Promise<MaintenanceWorker> {
    const taskQueue = `maintenance-${randomUUID()}`;
    const worker = await createDossierWorker({
      connection: deps.connection,
      namespace: 'default',
      taskQueue,
      db: deps.db,
      // No dossier runs here; the URL is never called.
      paymentGatewayUrl: deps.paymentGatewayUrl ?? 'http://127.0.0.1:9',
      temporal: deps.temporal,
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
    });
    return new MaintenanceWorker(taskQueue, worker, worker.run());
  }

  async stop(): Promise<void> {
    this.worker.shutdown();
    await this.running;
  }
}
