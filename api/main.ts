/** The API process: Express in front of Temporal (writes) and MongoDB (reads). */
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config/config';
import { boundedMongoClient, mongoBounds } from '../store/db';
import { PoolWatch } from '../store/pool-watch';
import { stopWithSupervisor } from '../workers/supervisor-watch';
import { temporalConnectionOptions } from '../workers/temporal-connection';
import { createApp } from './app';
import { ApiMetrics } from './metrics';

async function main(): Promise<void> {
  stopWithSupervisor('api');
  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'api' } });
  const mongo = boundedMongoClient(config.MONGODB_URI, mongoBounds(config));
  // Watched from before the first connection, so its counts are whole.
  const mongoPool = new PoolWatch(mongo, (what, snapshot) => log.warn({ mongodbPool: snapshot }, `mongodb: ${what}`));
  await mongo.connect().catch((err: Error) => {
    throw new StartupError(`api: cannot reach MongoDB at ${config.MONGODB_URI}: ${err.message}`);
  });
  const db = mongo.db(config.MONGODB_DB);
  const connection = await Connection.connect(temporalConnectionOptions(config)).catch((err: Error) => {
    throw new StartupError(`api: cannot reach Temporal at ${config.TEMPORAL_ADDRESS}: ${err.message}`);
  });
  const metrics = new ApiMetrics();
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, interceptors: { workflow: [metrics.temporalInterceptor()] } });
  const app = createApp({
    temporal,
    db,
    log,
    jwtSecret: config.AUTH_JWT_SECRET,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    settings: { supplementRule: config.SUPPLEMENT_RULE, classOneProvinces: config.CLASS_ONE_PROVINCES },
    trackRateLimitPerMinute: config.TRACK_RATE_LIMIT_PER_MINUTE,
    deadlines: { readMs: config.API_READ_DEADLINE_MS, writeMs: config.API_WRITE_DEADLINE_MS },
    registrationTimeoutMs: config.API_REGISTRATION_WAIT_MS,
    metrics,
    mongoPool,
  });
  const server = app.listen(config.PORT, config.HOST, () => log.info(`api: listening on http://${config.HOST}:${config.PORT}`));
  server.on('error', (err) => {
    console.error(`api: cannot listen on ${config.HOST}:${config.PORT}: ${err.message}`);
    process.exit(1);
  });
  // Graceful shutdown: stop accepting, let in-flight requests finish, then close clients.
  const stop = () => {
    server.close(async () => {
      await connection.close();
      await mongo.close();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

class StartupError extends Error {}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StartupError) console.error(err.message);
  else console.error('api:', err);
  process.exit(1);
});
