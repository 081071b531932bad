import type { Client } from '@temporalio/client';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { randomUUID } from 'node:crypto';
import { DossierClient } from '../clients/dossiers';
import type { PoolWatch } from '../store/pool-watch';
import { ReferenceData } from '../store/reference-data';
import type { DossierWorkflowInput } from '../workflows/messages';
import { authenticate } from './auth';
import { deadlines, requestBoundDb, type DeadlineSettings } from './deadline';
import { ApiMetrics } from './metrics';
import { redactRequest } from './log-redaction';
import { methodNotAllowed } from './methods';
import { docsPage, openApiDocument } from './openapi';
import { Problem, RETRY_AFTER_SECONDS, problemHandler, sendProblem } from './problem';
import { courierJobRoutes } from './routes/courier-jobs';
import { dossierRoutes } from './routes/dossiers';
import { referenceDataRoutes } from './routes/reference-data';
import { trackRoutes } from './routes/track';
import { complianceRoutes } from './routes/compliance';
import { complianceSnapshotRoutes } from './routes/compliance-snapshots';
import { dashboardRoutes } from './routes/dashboard';

export interface AppDeps {
  temporal: Client;
  db: Db;
  jwtSecret: string;
  taskQueue: string;
  settings: DossierWorkflowInput['settings'];
  log: Logger;
  registrationTimeoutMs?: number;
  /** Request deadlines (API_READ_DEADLINE_MS, API_WRITE_DEADLINE_MS); 4 s and 15 s when absent. */
  deadlines?: DeadlineSettings;
  /** Public tracking requests per client IP per minute (TRACK_RATE_LIMIT_PER_MINUTE); default 30. */
  trackRateLimitPerMinute?: number;
  /** Shared with the Temporal client's interceptor (api/main.ts); a fresh registry when absent. */
  metrics?: ApiMetrics;
  /** The read model's pool as its driver reports it, shown by /readyz when MongoDB does not answer. */
  mongoPool?: PoolWatch;
}

/** The HTTP API as a factory of its dependencies, so tests hand it real local servers. */
export function createApp(appDeps: AppDeps): express.Express {
  // Every read-model call a route makes ends with its request's deadline.
  const deps = { ...appDeps, db: requestBoundDb(appDeps.db) };
  const deadline = deadlines(deps.temporal, deps.deadlines);
  const app = express();
  const metrics = deps.metrics ?? new ApiMetrics();
  const dossiers = new DossierClient(deps.temporal, deps.taskQueue);
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(
    pinoHttp({
      logger: deps.log,
      serializers: { req: redactRequest },
      genReqId: (req, res) => {
        const id = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) || randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    next();
  });
  app.use(deadline.start);
  app.use(metrics.requestMetrics());
  app.use(methodNotAllowed());

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.get('/docs', (_req, res) => {
    res.type('html').send(docsPage());
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (req, res) => {
    const [temporal, mongo] = await Promise.all([
      deps.temporal.connection.workflowService.getSystemInfo({}).then(
        () => 'ok',
        () => 'unreachable',
      ),
      deps.db.command({ ping: 1 }).then(
        () => 'ok',
        (err: Error) => {
          // Why the ping failed and the pool's state tell an outage from a client that stopped serving.
          req.log.warn({ err, mongodbPool: deps.mongoPool?.snapshot() }, 'readyz: mongodb ping failed');
          return 'unreachable';
        },
      ),
    ]);
    const ready = temporal === 'ok' && mongo === 'ok';
    if (!ready) res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    const pool = mongo === 'ok' ? undefined : deps.mongoPool?.snapshot();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', temporal, mongodb: mongo, ...(pool ? { mongodbPool: pool } : {}) });
  });

  // Writes are JSON only, and small.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && req.headers['content-length'] !== '0' && !req.is('application/json')) {
      return next(new Problem(415, 'unsupported-media-type', 'Unsupported media type', 'Send the body as application/json'));
    }
    next();
  });
  app.use(express.json({ limit: '64kb', strict: true }));
  app.use(deadline.enter);

  // Public, before authentication: tracking by code and phone, rate limited per client IP.
  app.use(trackRoutes({ db: deps.db, rateLimitPerMinute: deps.trackRateLimitPerMinute ?? 30 }));
  app.use(dashboardRoutes());
  app.use('/v1', authenticate(deps.jwtSecret));
  app.use(
    dossierRoutes({
      dossiers,
      db: deps.db,
      refs: new ReferenceData(deps.db),
      settings: deps.settings,
      registrationTimeoutMs: deps.registrationTimeoutMs,
    }),
  );
  app.use(complianceRoutes({ db: deps.db }));
  app.use(complianceSnapshotRoutes({ db: deps.db }));
  app.use(referenceDataRoutes({ dossiers, refs: new ReferenceData(deps.db), log: deps.log }));
  app.use(courierJobRoutes({ db: deps.db }));

  app.use((req, res) => sendProblem(res, Problem.notFound(`No route ${req.method} ${req.path}`)));
  app.use(problemHandler(deps.log));
  return app;
}
