/** The worker process: runs dossier workflows, the read-model housekeeping workflows and their activities. */
import { Client, Connection } from '@temporalio/client';
import { GracefulShutdownPeriodExpiredError, NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../config/config';
import { backfillOpenCourierKeys } from '../store/courier-jobs';
import { connectMongo, ensureIndexes, mongoBounds } from '../store/db';
import { backfillListKeys } from '../store/dossier-list';
import { ensureCountsAggregator } from '../clients/dossiers';
import { ensureSchedules, scheduleSettings } from './schedules';
import { stopWithSupervisor } from './supervisor-watch';
import { temporalConnectionOptions } from './temporal-connection';
import { createDossierWorker, workerCapacity } from './worker';
import { bundleIsCurrent } from './workflow-bundle';

async function main(): Promise<void> {
  stopWithSupervisor('worker');
  const config = loadConfig();
  const { client, db } = await connectMongo(config.MONGODB_URI, config.MONGODB_DB, mongoBounds(config)).catch((err: Error) => {
    throw new StartupError(`worker: cannot reach MongoDB at ${config.MONGODB_URI}: ${err.message}`);
  });
  // Only the worker creates indexes (FerretDB 1.x breaks on concurrent createIndexes from two processes).
  await ensureIndexes(db);
  // Documents written before the list keys existed get them once (idempotent; a marker says it is done).
  const listed = await backfillListKeys(db, (m) => console.log(`worker: ${m}`));
  const opened = await backfillOpenCourierKeys(db);
  if (listed || opened) console.log(`worker: list keys given to ${listed} dossiers and ${opened} open courier jobs`);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config)).catch((err: Error) => {
    throw new StartupError(`worker: cannot reach Temporal at ${config.TEMPORAL_ADDRESS}: ${err.message}`);
  });
  // A client too: the reconciliation activity queries dossier workflows, and the Schedules are kept here.
  const clientConnection = await Connection.connect(temporalConnectionOptions(config)).catch((err: Error) => {
    throw new StartupError(`worker: cannot reach Temporal at ${config.TEMPORAL_ADDRESS}: ${err.message}`);
  });
  const temporal = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  if (config.SCHEDULES_ENABLED) {
    // Housekeeping must not keep the dossiers from running: a failure here is logged, and the next start tries again.
    await ensureSchedules(temporal, scheduleSettings(config)).then(
      (outcome) => console.log(`worker: schedules ${Object.entries(outcome).map(([id, what]) => `${id} ${what}`).join(', ')}`),
      (err: Error) => console.error(`worker: cannot create or update the schedules: ${err.message}`),
    );
  }
  const countsAggregator = {
    workflowId: config.COMPLIANCE_COUNTS_WORKFLOW_ID,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    passIntervalMs: config.COMPLIANCE_COUNTS_PASS_INTERVAL_MS,
  };
  // The summary reads the counts this workflow keeps; a failure is logged, and the next start or reconciliation pass tries again.
  await ensureCountsAggregator(temporal, countsAggregator).then(
    (runId) => console.log(`worker: compliance counts aggregator ${config.COMPLIANCE_COUNTS_WORKFLOW_ID} running (chain ${runId})`),
    (err: Error) => console.error(`worker: cannot start the compliance counts aggregator: ${err.message}`),
  );
  const workflowBundle = bundledBy(config.WORKFLOW_BUNDLE_PATH);
  const worker = await createDossierWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    db,
    paymentGatewayUrl: config.PAYMENT_GATEWAY_URL,
    paymentGatewayApiKey: config.PAYMENT_GATEWAY_API_KEY,
    notifyWebhookUrl: config.NOTIFY_WEBHOOK_URL,
    temporal,
    countsAggregator,
    capacity: workerCapacity(config),
    ...(workflowBundle ? { workflowBundle } : {}),
  });
  console.log(`worker: polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`);
  // Worker.run() stops on SIGINT/SIGTERM: in-flight activities get WORKER_SHUTDOWN_GRACE_MS, are then
  // cancelled, and after WORKER_SHUTDOWN_FORCE_MS more the process exits whatever still runs, so a
  // supervisor's restart never overlaps two workers.
  try {
    await worker.run();
  } catch (err) {
    if (!(err instanceof GracefulShutdownPeriodExpiredError)) throw err;
    console.error(`worker: activities still running ${config.WORKER_SHUTDOWN_GRACE_MS + config.WORKER_SHUTDOWN_FORCE_MS} ms after the stop was asked; exiting anyway`);
    process.exit(1);
  }
  await clientConnection.close();
  await connection.close();
  await client.close();
}

/** The bundle built beforehand when it is there and current; otherwise Worker.create bundles the code (8–20 s). */
function bundledBy(codePath: string | undefined): { codePath: string } | null {
  if (!codePath) return null;
  if (bundleIsCurrent(codePath)) return { codePath };
  console.error(`worker: the workflow bundle ${codePath} is missing or older than its sources; bundling the code here`);
  return null;
}

class StartupError extends Error {}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StartupError) console.error(err.message);
  else console.error('worker:', err);
  process.exit(1);
});
