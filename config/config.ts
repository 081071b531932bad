import { z } from 'zod';

/**
 * The one place the environment is read. Every variable the API, the worker
 * or docker-compose sets is declared here; an invalid one fails fast with a
 * single line naming it.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const csv = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),

  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('dossiers'),
  TEMPORAL_TLS: bool.default(false),
  TEMPORAL_TLS_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),

  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').default('mongodb://127.0.0.1:27017'),
  MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ or -').default('dossiers'),

  // The read model's client. FerretDB on SQLite has one writer: connections past a few only queue on its lock,
  // and an unbounded pool let abandoned attempts pile up (130+ connections, "database is locked").
  /** Connections per process; callers past it wait for one (MONGODB_WAIT_QUEUE_TIMEOUT_MS at most). */
  MONGODB_MAX_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  /** Milliseconds an operation waits for a free connection before it fails. */
  MONGODB_WAIT_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600000).default(5000),
  /** Milliseconds to find a reachable server before an operation fails (driver default 30 s). */
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(600000).default(5000),
  /** Milliseconds a socket may wait for an answer: the last bound on a driver call nothing else bounds. */
  MONGODB_SOCKET_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3600000).default(60000),

  // The worker's capacity. The SDK's default of 100 concurrent activities against a one-writer read model
  // was the cause of the sustained-load stall; see docs/DECISIONS.md for how each default was chosen.
  /** Activities one worker runs at once (SDK default 100). */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(1000).default(8),
  /** Local activities (the dossiers' read-model writes) one worker runs at once (SDK default 100). */
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).max(1000).default(8),
  /** Workflow tasks one worker runs at once (SDK default 40); workflow code is CPU-bound. */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(1000).default(10),
  /** Workflows kept in memory between tasks (SDK default: from the heap size). */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100000).default(1000),
  /** Concurrent long polls for activity tasks (at most WORKER_MAX_CONCURRENT_ACTIVITIES). */
  WORKER_ACTIVITY_POLLERS: z.coerce.number().int().min(1).max(100).default(4),
  /** Concurrent long polls for workflow tasks (2 to WORKER_MAX_CONCURRENT_WORKFLOW_TASKS). */
  WORKER_WORKFLOW_POLLERS: z.coerce.number().int().min(2).max(100).default(4),
  /**
   * Milliseconds a workflow task waits on a worker's sticky queue before the server hands it to any worker
   * (SDK default 10 s): after a kill -9 the dead worker's cached dossiers wait this long for their next task.
   */
  WORKER_STICKY_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(500).max(600000).default(2000),
  /** Milliseconds a stopping worker lets running activities finish before cancelling them. */
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600000).default(10000),
  /** Milliseconds after the grace before the worker gives up on what did not stop and exits anyway. */
  WORKER_SHUTDOWN_FORCE_MS: z.coerce.number().int().min(0).max(600000).default(5000),
  /** A workflow bundle built beforehand (npm start builds one under data/); unset, the worker bundles the code itself. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),

  /** Milliseconds a read (and /readyz) may take before the answer is a 503 with Retry-After. */
  API_READ_DEADLINE_MS: z.coerce.number().int().min(500).max(600000).default(4000),
  /** Milliseconds a write may take before the answer is a 503 with Retry-After; above API_REGISTRATION_WAIT_MS. */
  API_WRITE_DEADLINE_MS: z.coerce.number().int().min(1000).max(600000).default(15000),

  /** Milliseconds a submission waits for its registration before the answer is 202 Accepted (below API_WRITE_DEADLINE_MS). */
  API_REGISTRATION_WAIT_MS: z.coerce.number().int().min(100).max(600000).default(8000),

  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),

  PAYMENT_GATEWAY_URL: z.url().default('http://127.0.0.1:3100'),
  PAYMENT_GATEWAY_API_KEY: z.string().min(1).optional(),
  NOTIFY_WEBHOOK_URL: z.url().optional(),

  /** Decree 61 Art. 19.4 (`restart`) or Decision 766's index rule (`pause`). */
  SUPPLEMENT_RULE: z.enum(['restart', 'pause']).default('restart'),
  /** Provinces that are class-I cities, for the J+3 postal route class. */
  CLASS_ONE_PROVINCES: csv.default([]),
  /** Public tracking requests allowed per client per minute. */
  TRACK_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(30),

  /** Whether the worker creates (or updates) the Temporal Schedules below at start. */
  SCHEDULES_ENABLED: bool.default(true),
  /** Id of the Schedule that records the daily compliance snapshot. */
  COMPLIANCE_SNAPSHOT_SCHEDULE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, . _ or -').default('compliance-snapshot-daily'),
  /** Local time (Asia/Ho_Chi_Minh, HH:MM) the daily snapshot is taken: the end of the working day. */
  COMPLIANCE_SNAPSHOT_TIME: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)').default('17:30'),
  /** Id of the Schedule that reconciles the read model with the dossier workflows. */
  RECONCILE_SCHEDULE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, . _ or -').default('read-model-reconcile'),
  /** Minutes between two reconciliation passes. */
  RECONCILE_INTERVAL_MINUTES: z.coerce.number().int().min(5).max(1440).default(60),
  /** Id of the workflow that keeps the compliance counts (one per deployment: the counts' single writer). */
  COMPLIANCE_COUNTS_WORKFLOW_ID: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, . _ or -').default('compliance-counts'),
  /** Milliseconds the counts' aggregator waits between passes with nothing pending: the summary's lag, at most, plus one pass. */
  COMPLIANCE_COUNTS_PASS_INTERVAL_MS: z.coerce.number().int().min(50).max(60000).default(1000),
  /** Dossiers read per reconciliation batch (one activity). */
  RECONCILE_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(200),
});

export type Config = z.infer<typeof configSchema>;

/** Names of every variable the config reads (docker-compose is checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(configSchema.shape);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => CONFIG_VARIABLES.includes(k) && v !== undefined && v !== ''),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const why = issue.code === 'invalid_type' && present[name] === undefined ? 'is required' : issue.message;
    throw new ConfigError(`configuration: ${name} ${why}`);
  }
  const cfg = parsed.data;
  if (cfg.TEMPORAL_TLS_CERT_PATH && !cfg.TEMPORAL_TLS_KEY_PATH) {
    throw new ConfigError('configuration: TEMPORAL_TLS_KEY_PATH is required with TEMPORAL_TLS_CERT_PATH');
  }
  if (cfg.API_REGISTRATION_WAIT_MS >= cfg.API_WRITE_DEADLINE_MS) {
    throw new ConfigError('configuration: API_REGISTRATION_WAIT_MS must be below API_WRITE_DEADLINE_MS');
  }
  if (cfg.WORKER_ACTIVITY_POLLERS > cfg.WORKER_MAX_CONCURRENT_ACTIVITIES) {
    throw new ConfigError('configuration: WORKER_ACTIVITY_POLLERS must not exceed WORKER_MAX_CONCURRENT_ACTIVITIES');
  }
  if (cfg.WORKER_WORKFLOW_POLLERS > cfg.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS) {
    throw new ConfigError('configuration: WORKER_WORKFLOW_POLLERS must not exceed WORKER_MAX_CONCURRENT_WORKFLOW_TASKS');
  }
  return cfg;
}
