/** The worker process: runs dossier workflows and their activities. */
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../config/config';
import { connectMongo, ensureIndexes } from '../store/db';
import { temporalConnectionOptions } from './temporal-connection';
import { createDossierWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const { client, db } = await connectMongo(config.MONGODB_URI, config.MONGODB_DB).catch((err: Error) => {
    throw new StartupError(`worker: cannot reach MongoDB at ${config.MONGODB_URI}: ${err.message}`);
  });
  // Only the worker creates indexes (FerretDB 1.x breaks on concurrent createIndexes from two processes).
  await ensureIndexes(db);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config)).catch((err: Error) => {
    throw new StartupError(`worker: cannot reach Temporal at ${config.TEMPORAL_ADDRESS}: ${err.message}`);
  });
  const worker = await createDossierWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    db,
    paymentGatewayUrl: config.PAYMENT_GATEWAY_URL,
    paymentGatewayApiKey: config.PAYMENT_GATEWAY_API_KEY,
    notifyWebhookUrl: config.NOTIFY_WEBHOOK_URL,
  });
  console.log(`worker: polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`);
  // Worker.run() shuts down gracefully on SIGINT/SIGTERM (in-flight activities finish).
  await worker.run();
  await connection.close();
  await client.close();
}

class StartupError extends Error {}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StartupError) console.error(err.message);
  else console.error('worker:', err);
  process.exit(1);
});
