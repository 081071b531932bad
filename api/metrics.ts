/**
 * Prometheus metrics of the API process: HTTP requests by route template and
 * status, and the Temporal client calls the routes make, by operation and
 * outcome. One registry per app, so tests can build several apps in a process.
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const TEMPORAL_OPERATIONS = [
  'start',
  'startWithDetails',
  'startUpdate',
  'startUpdateWithStart',
  'signal',
  'signalWithStart',
  'query',
  'describe',
  'terminate',
  'cancel',
] as const satisfies readonly (keyof WorkflowClientInterceptor)[];

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly requestSeconds = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration until the response was sent',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly temporalCalls = new Counter({
    name: 'temporal_client_calls_total',
    help: 'Temporal workflow client calls, by operation and outcome (ok or the failure name)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly temporalSeconds = new Histogram({
    name: 'temporal_client_call_duration_seconds',
    help: 'Temporal workflow client call duration',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Express middleware: times each request and labels it with the matched route template, never the raw path. */
  requestMetrics() {
    return (req: Request, res: Response, next: NextFunction) => {
      const stop = process.hrtime.bigint();
      res.on('finish', () => {
        // Unmatched paths share one label, so probing cannot grow the series without bound.
        const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
        const labels = { method: req.method, route, status: String(res.statusCode) };
        this.requests.inc(labels);
        this.requestSeconds.observe(labels, Number(process.hrtime.bigint() - stop) / 1e9);
      });
      next();
    };
  }

  /** A workflow client interceptor counting and timing every call; pass it to `new Client({ interceptors })`. */
  temporalInterceptor(): WorkflowClientInterceptor {
    const interceptor: Record<string, unknown> = {};
    for (const operation of TEMPORAL_OPERATIONS) {
      interceptor[operation] = async (input: unknown, next: (input: unknown) => Promise<unknown>) => {
        const end = this.temporalSeconds.startTimer({ operation });
        try {
          const out = await next(input);
          this.temporalCalls.inc({ operation, outcome: 'ok' });
          return out;
        } catch (err) {
          this.temporalCalls.inc({ operation, outcome: err instanceof Error ? err.name : 'error' });
          throw err;
        } finally {
          end();
        }
      };
    }
    return interceptor as WorkflowClientInterceptor;
  }
}
