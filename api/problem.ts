import type { NextFunction, Request, Response } from 'express';
import type { ZodError } from 'zod';

export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem; thrown anywhere in a route and rendered by `problemHandler`. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
  }

  static validation(err: ZodError, prefix = ''): Problem {
    const errors = err.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)', message: i.message }));
    return new Problem(400, 'validation', 'Invalid input', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  }
  static unauthorized(detail = 'A valid bearer token is required'): Problem {
    return new Problem(401, 'unauthorized', 'Unauthorized', detail);
  }
  static forbidden(detail: string): Problem {
    return new Problem(403, 'forbidden', 'Forbidden', detail);
  }
  static notFound(detail: string): Problem {
    return new Problem(404, 'not-found', 'Not found', detail);
  }
  static unavailable(detail: string): Problem {
    return new Problem(503, 'dependency-unavailable', 'Service unavailable', detail);
  }
}

export function sendProblem(res: Response, p: Problem): void {
  res
    .status(p.status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: `/problems/${p.slug}`,
        title: p.title,
        status: p.status,
        detail: p.detail,
        ...(p.errors?.length ? { errors: p.errors } : {}),
      }),
    );
}

/** Renders every error as problem+json; nothing a client sends can produce a 500. */
export function problemHandler(log: { error: (obj: object, msg: string) => void }) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    if (err instanceof Problem) return sendProblem(res, err);
    const e = err as { type?: string; status?: number; statusCode?: number; message?: string };
    // body-parser's own errors: malformed JSON, too large, bad encoding.
    if (e.type === 'entity.parse.failed') return sendProblem(res, new Problem(400, 'malformed-json', 'Malformed JSON', 'The body is not valid JSON'));
    if (e.type === 'entity.too.large') return sendProblem(res, new Problem(413, 'body-too-large', 'Body too large', 'The body exceeds the size limit'));
    if (e.type && (e.status ?? e.statusCode ?? 500) < 500) {
      return sendProblem(res, new Problem(e.status ?? e.statusCode ?? 400, 'bad-request', 'Bad request', e.message ?? 'Bad request'));
    }
    if (isUnavailable(err)) return sendProblem(res, Problem.unavailable('A dependency (Temporal or MongoDB) is unreachable; nothing was changed'));
    log.error({ err }, 'unhandled error');
    sendProblem(res, new Problem(500, 'internal', 'Internal error', 'An unexpected error occurred'));
  };
}

/** Connection failures of Temporal (gRPC UNAVAILABLE / DEADLINE_EXCEEDED) or MongoDB. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: number; cause?: unknown; message?: string };
  if (!e) return false;
  if (e.name === 'ServiceError' || e.code === 14 || e.code === 4) return true;
  if (typeof e.name === 'string' && /^Mongo(ServerSelection|Network|NotConnected|Topology)/.test(e.name)) return true;
  return e.cause !== undefined && e.cause !== err && isUnavailable(e.cause);
}
