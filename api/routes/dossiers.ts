import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { Router, type Request } from 'express';
import type { Db } from 'mongodb';
import { STATUSES, TERMINAL_STATUSES, type DossierView } from '../../domain/dossier';
import { EVENT_ROLES, type DossierEvent, type Refusal } from '../../domain/events';
import type { Submission } from '../../domain/types';
import { z } from 'zod';
import { endOfLocalDay, formatInstant, localDate as localDateOf, parseInstant, startOfLocalDay } from '../../domain/calendar';
import { findDossier, listDossiers } from '../../store/read-model';
import type { ReferenceData } from '../../store/reference-data';
import {
  applyEventUpdate,
  dossierViewQuery,
  dossierWorkflowId,
  registeredUpdate,
  REFUSAL_FAILURE_TYPE,
  searchAttributes,
  type DossierWorkflowInput,
} from '../../workflows/messages';
import { requireRole, type Principal } from '../auth';
import { canSee, viewFor } from '../masking';
import { requestDeadline, remainingMs } from '../deadline';
import { Problem, RETRY_AFTER_SECONDS, parseOr400 } from '../problem';
import { dossierCode, eventSchema, intParam, localDate, submissionSchema } from '../schemas';
import type { DossierPageBody } from '../response-schemas';

export interface DossierRoutesDeps {
  temporal: Client;
  db: Db;
  refs: ReferenceData;
  taskQueue: string;
  settings: DossierWorkflowInput['settings'];
  /** How long a submission waits for the workflow to register the dossier. */
  registrationTimeoutMs?: number;
}

/** Canonical JSON (sorted keys), so the same payload always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function principal(req: Request): Principal {
  return req.principal!;
}

export function dossierRoutes(deps: DossierRoutesDeps): Router {
  const router = Router();
  const registrationTimeoutMs = deps.registrationTimeoutMs ?? 8_000;

  /**
   * The read model, or, for a dossier registered a moment ago whose projection has not
   * landed yet, the workflow itself (the source of truth).
   */
  async function readDossier(code: string): Promise<{ agencyId: string; courierIds: string[]; view: DossierView } | null> {
    const doc = await findDossier(deps.db, code);
    if (doc) return doc;
    try {
      const view = await deps.temporal.workflow.getHandle(dossierWorkflowId(code)).query(dossierViewQuery);
      return view ? { agencyId: view.agencyId, courierIds: view.courierIds, view } : null;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  router.post('/v1/dossiers', requireRole('portal', 'admin'), async (req, res) => {
    const body = parseOr400(submissionSchema, req.body);
    const now = Date.now();
    if (body.submittedAt && Date.parse(body.submittedAt) > now + 5 * 60_000) {
      throw Problem.invalid([{ path: 'submittedAt', message: 'must not be in the future' }]);
    }
    // A backdated submission is counted on its own year's calendar: a past year needs one on file.
    const year = Number(localDateOf(body.submittedAt ? parseInstant(body.submittedAt) : now).slice(0, 4));
    const pastYear = year < Number(localDateOf(now).slice(0, 4));
    const [procedure, agency, calendar] = await Promise.all([
      deps.refs.procedure(body.procedureCode),
      deps.refs.agency(body.agencyId),
      pastYear ? deps.refs.calendar(year) : null,
    ]);
    const unknown = [
      ...(procedure ? [] : [{ path: 'procedureCode', message: `unknown procedure ${body.procedureCode}` }]),
      ...(agency ? [] : [{ path: 'agencyId', message: `unknown agency ${body.agencyId}` }]),
      ...(pastYear && !calendar ? [{ path: 'submittedAt', message: `is in ${year}, a year with no working calendar on file, so no deadline could be counted` }] : []),
    ];
    if (unknown.length) throw Problem.invalid(unknown);

    const payloadHash = createHash('sha256').update(canonical(body)).digest('hex');
    const submission: Submission = { ...body, submittedAt: body.submittedAt ?? formatInstant(now) } as Submission;
    const workflowId = dossierWorkflowId(body.code);
    let created = true;
    const handle = deps.temporal.workflow.getHandle(workflowId);
    try {
      await deps.temporal.workflow.start('dossierWorkflow', {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [{ submission, settings: deps.settings } satisfies DossierWorkflowInput],
        memo: { payloadHash },
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: searchAttributes.status, value: 'submitted' },
          { key: searchAttributes.agencyId, value: body.agencyId },
          { key: searchAttributes.procedureCode, value: body.procedureCode },
        ],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const described = await handle.describe();
        if (described.memo?.payloadHash !== payloadHash) {
          throw new Problem(409, 'duplicate-code', 'Code already used', `A different dossier was already submitted with code ${body.code}`);
        }
        created = false;
      } else {
        // A 503 must mean nothing happened: a start that failed on its way may still have reached Temporal.
        const started = await handle.describe().then(
          (d) => (d.memo?.payloadHash === payloadHash ? true : null),
          (e: unknown) => (e instanceof WorkflowNotFoundError ? false : null),
        );
        if (started === false) throw Problem.unavailable('Temporal did not take the submission; nothing was changed');
        if (started === null) {
          throw Problem.unavailable('Temporal did not answer, so whether the submission was taken is not known; send the same request again (it is safe) to learn');
        }
      }
    }
    const view = await registeredView(workflowId, body.code);
    if (!view) {
      // Started but not registered yet (no worker free): accepted, and the same request again returns the dossier.
      res
        .status(202)
        .location(`/v1/dossiers/${encodeURIComponent(body.code)}`)
        .setHeader('retry-after', String(RETRY_AFTER_SECONDS));
      return res.json({
        code: body.code,
        status: 'registration_pending',
        detail: 'The dossier was accepted and is registered as soon as a worker takes it; send the same request again, or GET the Location, for the dossier',
      });
    }
    res.status(created ? 201 : 200).json(viewFor(principal(req), view));
  });

  /**
   * The registered dossier: from the workflow, or from the read model if the
   * workflow has finished; null when it is not registered within the wait.
   */
  async function registeredView(workflowId: string, code: string): Promise<DossierView | null> {
    const handle = deps.temporal.workflow.getHandle(workflowId);
    // The update call ends with the wait (or the request's deadline): left running, it would retry on a closed connection.
    const abandon = new AbortController();
    const deadline = requestDeadline();
    const signal = deadline ? AbortSignal.any([abandon.signal, deadline.signal]) : abandon.signal;
    const waitMs = Math.min(registrationTimeoutMs, remainingMs());
    try {
      return await withTimeout(deps.temporal.withAbortSignal(signal, () => handle.executeUpdate(registeredUpdate)), waitMs);
    } catch (err) {
      const doc = await findDossier(deps.db, code).catch(() => null);
      if (doc) return doc.view;
      // The workflow refused to register: say so. Anything else leaves it started and pending.
      if (err instanceof WorkflowUpdateFailedError) throw err;
      return null;
    } finally {
      abandon.abort();
    }
  }

  router.get('/v1/dossiers', requireRole('manager', 'admin', 'agency'), async (req, res) => {
    const p = principal(req);
    const q = parseOr400(listQuerySchema, req.query, '(query)');
    const docs = await listDossiers(deps.db, {
      agencyId: p.role === 'agency' ? p.agencyId : q.agencyId,
      status: q.status,
      procedureCode: q.procedureCode,
      from: q.from ? parseInstant(startOfLocalDay(q.from)) : undefined,
      to: q.to ? parseInstant(endOfLocalDay(q.to)) : undefined,
      after: q.cursor,
      limit: q.limit + 1,
    });
    const page = docs.slice(0, q.limit);
    const last = page[page.length - 1];
    const nextCursor = docs.length > q.limit && last ? encodeCursor({ at: last.submittedAt.getTime(), id: last._id }) : null;
    res.json({ items: page.map((d) => viewFor(p, d.view)), nextCursor } satisfies DossierPageBody);
  });

  router.get('/v1/dossiers/:code', requireRole('portal', 'manager', 'admin', 'agency', 'courier', 'clerk'), async (req, res) => {
    const code = dossierCode.safeParse(req.params.code);
    if (!code.success) throw Problem.notFound(`No dossier ${req.params.code}`);
    const doc = await readDossier(code.data);
    if (!doc || !canSee(principal(req), doc)) throw Problem.notFound(`No dossier ${code.data}`);
    res.json(viewFor(principal(req), doc.view));
  });

  router.post('/v1/dossiers/:code/events', requireRole('portal', 'agency', 'courier', 'clerk'), async (req, res) => {
    const p = principal(req);
    const code = dossierCode.safeParse(req.params.code);
    if (!code.success) throw Problem.notFound(`No dossier ${req.params.code}`);
    const { eventId, occurredAt, ...event } = parseOr400(eventSchema, req.body);
    const role = EVENT_ROLES[event.type];
    if (p.role !== role) throw Problem.forbidden(`${event.type} is reported by the ${role} role`);

    const doc = await readDossier(code.data);
    // A courier may report on a dossier whose job is not assigned yet (no courier covers the address).
    const visible = doc && (canSee(p, doc) || (p.role === 'courier' && doc.view.job !== null && doc.view.job.courierId === null));
    if (!doc || !visible) throw Problem.notFound(`No dossier ${code.data}`);
    // An event already applied to a dossier that has since ended (its workflow takes no updates): the same answer again.
    if (eventId && TERMINAL_STATUSES.has(doc.view.status) && doc.view.timeline.some((t) => t.eventId === eventId)) {
      return res.json(viewFor(p, doc.view));
    }
    const actor = {
      role: p.role,
      id: p.sub,
      ...(p.role === 'agency' ? { agencyId: p.agencyId } : {}),
      ...(p.role === 'courier' ? { courierId: p.courierId } : {}),
    };
    const handle = deps.temporal.workflow.getHandle(dossierWorkflowId(code.data));
    try {
      const view = await handle.executeUpdate(applyEventUpdate, {
        args: [{ event: event as DossierEvent, actor, ...(occurredAt ? { occurredAt } : {}), ...(eventId ? { eventId } : {}) }],
        updateId: eventId ?? randomUUID(),
      });
      res.json(viewFor(p, view));
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) throw new Problem(refusal.status, refusal.type, refusal.title, refusal.detail, refusal.errors);
      if (err instanceof WorkflowNotFoundError || isCompletedError(err)) {
        throw new Problem(409, 'invalid-transition', 'Event not valid now', `${event.type} is not valid while the dossier is ${doc.view.status}`);
      }
      throw err;
    }
  });

  return router;
}

interface ListCursor {
  at: number;
  id: string;
}

function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id]), 'utf8').toString('base64url');
}

function decodeCursor(s: string): ListCursor | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(s)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2) return null;
    const [at, id] = v as unknown[];
    if (typeof at !== 'number' || !Number.isSafeInteger(at) || typeof id !== 'string' || !id) return null;
    return { at, id };
  } catch {
    return null;
  }
}

/** Query of the paged list; unknown parameters are refused so typos do not silently widen a list. */
export const listQuerySchema = z
  .strictObject({
    status: z.enum(STATUSES).optional(),
    agencyId: z.string().trim().min(1).max(64).optional(),
    procedureCode: z.string().trim().min(1).max(64).optional(),
    from: localDate.optional(),
    to: localDate.optional(),
    cursor: z
      .string()
      .transform((s, ctx) => {
        const c = decodeCursor(s);
        if (!c) {
          ctx.addIssue({ code: 'custom', message: 'is not a cursor this API issued' });
          return z.NEVER;
        }
        return c;
      })
      .meta({ pattern: '^[A-Za-z0-9_-]{1,400}$', description: "opaque: the previous page's nextCursor" })
      .optional(),
    limit: intParam(1, 100, 20),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { path: ['to'], message: 'must not be before from' });

function refusalOf(err: unknown): Refusal | null {
  if (!(err instanceof WorkflowUpdateFailedError)) return null;
  const cause = err.cause as { type?: string; details?: unknown[] } | undefined;
  if (cause?.type !== REFUSAL_FAILURE_TYPE) return null;
  return (cause.details?.[0] as Refusal) ?? null;
}

function isCompletedError(err: unknown): boolean {
  return /already completed|workflow execution already completed/i.test((err as Error)?.message ?? '');
}

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
