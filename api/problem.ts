import type { NextFunction, Request, Response } from 'express';
import type { z, ZodError } from 'zod';

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

  /** 400 naming each bad field. */
  static invalid(errors: FieldError[]): Problem {
    return new Problem(400, 'validation', 'Invalid input', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  }

  /** 400 from a zod error; an unknown key is named itself, not as an issue of the object around it. */
  static validation(err: ZodError, root: '(body)' | '(query)' = '(body)'): Problem {
    return Problem.invalid(
      err.issues.flatMap((i) => {
        const at = i.path.map(String);
        if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: [...at, k].join('.'), message: 'is not a known field' }));
        return [{ path: at.join('.') || root, message: i.message }];
      }),
    );
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

  /**
   * 503 for an event Temporal may have taken but did not confirm in time: unlike other 503s it may
   * still be applied (an update, once admitted, cannot be withdrawn). With an eventId a repeat is safe.
   */
  static eventUnconfirmed(code: string, eventId: string | undefined): Problem {
    if (eventId) {
      return Problem.unavailable(
        `The event was not confirmed in time and may still be applied to dossier ${code}; send the same request again (eventId ${eventId}): it is applied at most once, and the answer says how`,
      );
    }
    return new Problem(
      503,
      'event-outcome-unknown',
      'Event outcome unknown',
      `The event was not confirmed in time and may still be applied to dossier ${code}. It carries no eventId, so sending it again could apply it twice: ` +
        `read the dossier (GET /v1/dossiers/${code}) before reporting it again, and give events an eventId to make a repeat safe`,
    );
  }
}

/** Parses with a zod schema, or throws the 400 that names each bad field. */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, root: '(body)' | '(query)' = '(body)'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw Problem.validation(parsed.error, root);
  return parsed.data;
}

/** Seconds a client is told to wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

export function sendProblem(res: Response, p: Problem): void {
  if (p.status === 503) res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
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
    const e = err as { type?: string; status?: number; statusCode?: number; message?: string; expose?: boolean };
    // body-parser's own errors: malformed JSON, too large, bad encoding.
    if (e.type === 'entity.parse.failed') {
      // The strict parser also refuses a valid JSON primitive (`1`, `"x"`): say which it is.
      const detail = isJson((err as { body?: unknown }).body) ? 'The body must be a JSON object' : 'The body is not valid JSON';
      return sendProblem(res, new Problem(400, 'malformed-json', 'Malformed JSON', detail));
    }
    // The router's own: a path parameter that is not valid percent-encoding.
    if (err instanceof URIError && e.status === 400) return sendProblem(res, new Problem(400, 'bad-path', 'Bad request', 'The path is not valid percent-encoding'));
    if (e.type === 'entity.too.large') return sendProblem(res, new Problem(413, 'body-too-large', 'Body too large', 'The body exceeds the size limit'));
    // `expose` marks http-errors' client errors that carry no type, e.g. a body that does not decompress.
    if ((e.type || e.expose) && (e.status ?? e.statusCode ?? 500) < 500) {
      return sendProblem(res, new Problem(e.status ?? e.statusCode ?? 400, 'bad-request', 'Bad request', e.message ?? 'Bad request'));
    }
    if (isUnavailable(err)) return sendProblem(res, Problem.unavailable('A dependency (Temporal or MongoDB) is unreachable; nothing was changed'));
    // Whatever a call ended by the request's deadline threw (api/deadline.ts).
    if ((res.locals.deadline as { signal?: AbortSignal } | undefined)?.signal?.aborted) {
      return sendProblem(res, Problem.unavailable('A dependency (Temporal or MongoDB) did not answer in time; retry later (the same request is safe to send again)'));
    }
    log.error({ err }, 'unhandled error');
    sendProblem(res, new Problem(500, 'internal', 'Internal error', 'An unexpected error occurred'));
  };
}

/** A socket's own failure; the MongoDB driver can let one through unwrapped when the server dies mid-write. */
const SOCKET_ERROR_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ERR_SOCKET_CLOSED']);

/** Connection failures of Temporal (gRPC UNAVAILABLE / DEADLINE_EXCEEDED) or MongoDB. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: number | string; cause?: unknown; message?: string };
  if (!e) return false;
  if (e.name === 'ServiceError' || e.code === 14 || e.code === 4) return true;
  // Chaos run 2026-12-02: a FerretDB kill -9 surfaced as Node's "This socket has been ended by the other party" (EPIPE), a 500.
  if (typeof e.code === 'string' && SOCKET_ERROR_CODES.has(e.code)) return true;
  // DeadlineExceeded: the request's own deadline (api/deadline.ts) ended the call.
  if (e.name === 'DeadlineExceeded' || e.name === 'WorkflowUpdateRPCTimeoutOrCancelledError') return true;
  if (typeof e.name === 'string' && /^Mongo(ServerSelection|Network|NotConnected|Topology|OperationTimeout|WaitQueueTimeout)/.test(e.name)) return true;
  return e.cause !== undefined && e.cause !== err && isUnavailable(e.cause);
}

function isJson(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
