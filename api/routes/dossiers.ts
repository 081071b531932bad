import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Db } from 'mongodb';
import { STATUSES, TERMINAL_STATUSES, type DossierView } from '../../domain/dossier';
import { EVENT_ROLES, type DossierEvent } from '../../domain/events';
import { dossierContextYears, type Submission } from '../../domain/types';
import { z } from 'zod';
import { endOfLocalDay, formatInstant, localDate as localDateOf, parseInstant, startOfLocalDay } from '../../domain/calendar';
import { listDossiers } from '../../store/dossier-list';
import { findDossier } from '../../store/read-model';
import { completeContext, type ReferenceData } from '../../store/reference-data';
import type { DossierClient } from '../../clients/dossiers';
import type { DossierWorkflowInput } from '../../workflows/messages';
import { requireRole, type Principal } from '../auth';
import { canSee, viewFor } from '../masking';
import { requestDeadline, remainingMs } from '../deadline';
import { Problem, RETRY_AFTER_SECONDS, isUnavailable, parseOr400 } from '../problem';
import { dossierCode, eventSchema, intParam, localDate, submissionSchema } from '../schemas';
import type { DossierPageBody } from '../response-schemas';

export interface DossierRoutesDeps {
  dossiers: DossierClient;
  db: Db;
  refs: ReferenceData;
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
    const view = await deps.dossiers.view(code);
    return view ? { agencyId: view.agencyId, courierIds: view.courierIds, view } : null;
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
    const submittedAt = body.submittedAt ?? formatInstant(now);
    // The reference data the dossier registers with, read once: they check the submission here and
    // go to the workflow with it, so its first task has nothing to read.
    const [refs, calendar] = await Promise.all([
      deps.refs.dossierContext(body.procedureCode, body.agencyId, dossierContextYears(submittedAt)),
      pastYear ? deps.refs.calendar(year) : null,
    ]);
    const { procedure, agency } = refs;
    const unknown = [
      ...(procedure ? [] : [{ path: 'procedureCode', message: `unknown procedure ${body.procedureCode}` }]),
      ...(agency ? [] : [{ path: 'agencyId', message: `unknown agency ${body.agencyId}` }]),
      ...(pastYear && !calendar ? [{ path: 'submittedAt', message: `is in ${year}, a year with no working calendar on file, so no deadline could be counted` }] : []),
    ];
    if (unknown.length) throw Problem.invalid(unknown);

    const payloadHash = createHash('sha256').update(canonical(body)).digest('hex');
    const submission: Submission = { ...body, submittedAt } as Submission;
    // Without a tariff on file the workflow reads the reference data itself, and its activity says what is missing.
    const context = completeContext(refs);
    // One call: the start with the registration update (update-with-start), answered by the workflow's first task.
    const { outcome, view } = await deps.dossiers.submitAndRegister(
      { submission, settings: deps.settings, context },
      { payloadHash },
      {
        waitMs: Math.min(registrationTimeoutMs, remainingMs()),
        signal: requestDeadline()?.signal,
        readModel: async (code) => (await findDossier(deps.db, code))?.view ?? null,
      },
    );
    if (outcome === 'conflict') {
      throw new Problem(409, 'duplicate-code', 'Code already used', `A different dossier was already submitted with code ${body.code}`);
    }
    // A 503 must mean nothing happened: the client looked up whether a start that failed on its way reached Temporal.
    if (outcome === 'not-taken') throw Problem.unavailable('Temporal did not take the submission; nothing was changed');
    if (outcome === 'unknown') {
      throw Problem.unavailable('Temporal did not answer, so whether the submission was taken is not known; send the same request again (it is safe) to learn');
    }
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
    res.status(outcome === 'started' ? 201 : 200).json(viewFor(principal(req), view));
  });

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
    const command = { event: event as DossierEvent, actor, ...(occurredAt ? { occurredAt } : {}), ...(eventId ? { eventId } : {}) };
    // From here a late or failed answer does not mean nothing changed: the update may be taken and applied later.
    const unconfirmed = Problem.eventUnconfirmed(code.data, eventId);
    res.locals.deadlineProblem = unconfirmed;
    const applied = await deps.dossiers.applyEvent(code.data, command, eventId).catch((err: unknown) => {
      throw isUnavailable(err) || requestDeadline()?.signal.aborted ? unconfirmed : err;
    });
    if (applied.outcome === 'refused') {
      const { refusal } = applied;
      throw new Problem(refusal.status, refusal.type, refusal.title, refusal.detail, refusal.errors);
    }
    if (applied.outcome === 'closed') {
      throw new Problem(409, 'invalid-transition', 'Event not valid now', `${event.type} is not valid while the dossier is ${doc.view.status}`);
    }
    res.json(viewFor(p, applied.view));
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
