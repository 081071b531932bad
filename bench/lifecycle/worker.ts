/**
 * A worker process of `npm run bench:lifecycle`, configured from the
 * environment like workers/main.ts (WORKER_*, MONGODB_*, TEMPORAL_*):
 *   `dossier`:  the production dossier worker (createDossierWorker, the same
 *               activities and counts aggregator) on the bench bundle, which
 *               adds the timer probe;
 *   `baseline`: the same capacity settings, running the baseline workflow
 *               and its one activity.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ensureCountsAggregator } from '../../clients/dossiers';
import { loadConfig } from '../../config/config';
import { connectMongo, ensureIndexes, mongoBounds } from '../../store/db';
import { stopWithSupervisor } from '../../workers/supervisor-watch';
import { capacityOptions, createDossierWorker, workerCapacity } from '../../workers/worker';
import { createBaselineActivities } from './activities';

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode !== 'dossier' && mode !== 'baseline') throw new Error('usage: worker.ts dossier|baseline');
  stopWithSupervisor(`bench ${mode} worker`);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const codePath = process.env.BENCH_LIFECYCLE_BUNDLE;
  if (!codePath) throw new Error('BENCH_LIFECYCLE_BUNDLE is not set');
  const { client: mongo, db } = await connectMongo(config.MONGODB_URI, config.MONGODB_DB, mongoBounds(config));
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const capacity = workerCapacity(config);
  let worker: Worker;
  if (mode === 'dossier') {
    await ensureIndexes(db);
    const temporal = new Client({ connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS }), namespace: config.TEMPORAL_NAMESPACE });
    const countsAggregator = { workflowId: `${config.COMPLIANCE_COUNTS_WORKFLOW_ID}-${config.TEMPORAL_TASK_QUEUE}`, taskQueue: config.TEMPORAL_TASK_QUEUE, passIntervalMs: config.COMPLIANCE_COUNTS_PASS_INTERVAL_MS };
    worker = await createDossierWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      db,
      paymentGatewayUrl: config.PAYMENT_GATEWAY_URL,
      temporal,
      countsAggregator,
      workflowBundle: { codePath },
      capacity,
    });
    await ensureCountsAggregator(temporal, countsAggregator);
  } else {
    // The same capacity options as createDossierWorker.
    worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowBundle: { codePath },
      ...capacityOptions(capacity),
      activities: createBaselineActivities(db),
    });
  }
  console.log(`bench ${mode} worker: polling ${config.TEMPORAL_TASK_QUEUE}`);
  // For the memory figure: how many workflows the worker holds.
  setInterval(() => console.log(`bench-status ${JSON.stringify({ cached: worker.getStatus().numCachedWorkflows })}`), 1000).unref();
  await worker.run();
  await connection.close();
  await mongo.close();
}

main().catch((err: unknown) => {
  console.error('bench worker:', err);
  process.exit(1);
});
