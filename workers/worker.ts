import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Db } from 'mongodb';
import { createActivities, type WorkflowAccess } from '../activities';
import { attemptInterceptors } from '../activities/attempt';
import { DossierClient, ensureCountsAggregator, type CountsAggregatorSettings } from '../clients/dossiers';
import type { Config } from '../config/config';

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
  /** Slots, pollers and shutdown bounds (config WORKER_*); the defaults below when absent. */
  capacity?: Partial<WorkerCapacity>;
}

/** How much one worker takes on at once, and how long it may take to stop. */
export interface WorkerCapacity {
  maxConcurrentActivities: number;
  maxConcurrentLocalActivities: number;
  maxConcurrentWorkflowTasks: number;
  maxCachedWorkflows: number;
  activityPollers: number;
  workflowPollers: number;
  stickyQueueTimeoutMs: number;
  shutdownGraceMs: number;
  shutdownForceMs: number;
}

/** The config's defaults (docs/DECISIONS.md says why each). */
export const DEFAULT_CAPACITY: WorkerCapacity = {
  maxConcurrentActivities: 8,
  maxConcurrentLocalActivities: 8,
  maxConcurrentWorkflowTasks: 10,
  maxCachedWorkflows: 1000,
  activityPollers: 4,
  workflowPollers: 4,
  stickyQueueTimeoutMs: 2_000,
  shutdownGraceMs: 10_000,
  shutdownForceMs: 5_000,
};

export function workerCapacity(config: Config): WorkerCapacity {
  return {
    maxConcurrentActivities: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentLocalActivities: config.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
    maxConcurrentWorkflowTasks: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    activityPollers: config.WORKER_ACTIVITY_POLLERS,
    workflowPollers: config.WORKER_WORKFLOW_POLLERS,
    stickyQueueTimeoutMs: config.WORKER_STICKY_QUEUE_TIMEOUT_MS,
    shutdownGraceMs: config.WORKER_SHUTDOWN_GRACE_MS,
    shutdownForceMs: config.WORKER_SHUTDOWN_FORCE_MS,
  };
}

/** The worker options a capacity sets: slots, pollers, cache and a bounded stop. */
export function capacityOptions(capacity: WorkerCapacity): Partial<WorkerOptions> {
  // Without a cache, sdk-core still holds one run (evicted after each task): a second task taken meanwhile
  // waits for that slot, and a query waiting behind a task is dropped when the run is evicted (its caller
  // waits for its deadline; a task's, the 10 s task timeout). One task at a time leaves nothing waiting.
  const workflowTasks = capacity.maxCachedWorkflows === 0 ? 1 : capacity.maxConcurrentWorkflowTasks;
  return {
    maxCachedWorkflows: capacity.maxCachedWorkflows,
    maxConcurrentActivityTaskExecutions: capacity.maxConcurrentActivities,
    // The dossiers' read-model writes run here too, in this worker (same activities, same interceptor).
    maxConcurrentLocalActivityExecutions: capacity.maxConcurrentLocalActivities,
    maxConcurrentWorkflowTaskExecutions: workflowTasks,
    maxConcurrentActivityTaskPolls: Math.min(capacity.activityPollers, capacity.maxConcurrentActivities),
    // With no cache there is no sticky queue, and the SDK then takes one poller.
    maxConcurrentWorkflowTaskPolls: Math.min(capacity.workflowPollers, workflowTasks),
    // A dead worker's sticky queue holds its cached workflows' next tasks this long before any worker gets them.
    stickyQueueScheduleToStartTimeout: capacity.stickyQueueTimeoutMs,
    shutdownGraceTime: capacity.shutdownGraceMs,
    // Bounded stop: a supervisor restarting the worker must never run two at once.
    shutdownForceTime: capacity.shutdownGraceMs + capacity.shutdownForceMs,
  };
}

export async function createDossierWorker(deps: DossierWorkerDeps): Promise<Worker> {
  const capacity = { ...DEFAULT_CAPACITY, ...deps.capacity };
  const maxCachedWorkflows = deps.maxCachedWorkflows ?? capacity.maxCachedWorkflows;
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    ...capacityOptions({ ...capacity, maxCachedWorkflows }),
    interceptors: { activity: [attemptInterceptors] },
    activities: createActivities({
      db: deps.db,
      paymentGatewayUrl: deps.paymentGatewayUrl,
      paymentGatewayApiKey: deps.paymentGatewayApiKey,
      notifyWebhookUrl: deps.notifyWebhookUrl,
      workflows: deps.temporal ? workflowAccess(deps.temporal, deps.taskQueue, deps.countsAggregator) : undefined,
    }),
  });
}

/** What the activities ask of the workflows, through the workflows' client. */
function workflowAccess(temporal: Client, taskQueue: string, countsAggregator?: CountsAggregatorSettings): WorkflowAccess {
  const dossiers = new DossierClient(temporal, taskQueue);
  return {
    temporal,
    dossierView: (code) => dossiers.view(code),
    ...(countsAggregator ? { ensureCountsAggregator: () => ensureCountsAggregator(temporal, countsAggregator) } : {}),
  };
}
