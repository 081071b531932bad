import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Db } from 'mongodb';
import { createActivities } from '../activities';
import type { CountsAggregatorSettings } from '../activities/compliance-counts';

export interface DossierWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  paymentGatewayUrl: string;
  paymentGatewayApiKey?: string;
  notifyWebhookUrl?: string;
  /** For the reconciliation activity, which reads dossier views by query; optional for workers that only run dossiers. */
  temporal?: Client;
  /** The compliance counts' aggregator, kept running by the reconciliation too. */
  countsAggregator?: CountsAggregatorSettings;
  /** Tests pass a pre-built bundle so the workflow code is bundled once. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Workflows kept in memory between tasks (SDK default when absent); 0 replays every task from history. */
  maxCachedWorkflows?: number;
}

export async function createDossierWorker(deps: DossierWorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    ...(deps.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: deps.maxCachedWorkflows } : {}),
    activities: createActivities({
      db: deps.db,
      paymentGatewayUrl: deps.paymentGatewayUrl,
      paymentGatewayApiKey: deps.paymentGatewayApiKey,
      notifyWebhookUrl: deps.notifyWebhookUrl,
      temporal: deps.temporal,
      countsAggregator: deps.countsAggregator,
    }),
  });
}
