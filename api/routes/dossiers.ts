import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { Router, type Request } from 'express';
import type { Db } from 'mongodb';
import { formatInstant } from '../../domain/calendar';
import type { DossierView } from '../../domain/dossier';
import { EVENT_ROLES, type DossierEvent, type Refusal } from '../../domain/events';
import type { Submission } from '../../domain/types';
import { findDossier } from '../../store/read-model';
import type { ReferenceData } from '../../store/reference-data';
import {
  applyEventUpdate,
  dossierWorkflowId,
  registeredUpdate,
  REFUSAL_FAILURE_TYPE,
  searchAttributes,
  type DossierWorkflowInput,
} from '../../workflows/messages';
import { requireRole, type Principal } from '../auth';
import { canSee, viewFor } from '../masking';
import { Problem } from '../problem';
import { dossierCode, eventSchema, submissionSchema } from '../schemas';

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
  const registrationTimeoutMs = deps.registrationTimeoutMs ?? 10_000;

  router.post('/v1/dossiers', requireRole('portal', 'admin'), async (req, res) => {
    const parsed = submissionSchema.safeParse(req.body);
    if (!parsed.success) throw Problem.validation(parsed.error);
    const body = parsed.data;
    const now = Date.now();
    if (body.submittedAt && Date.parse(body.submittedAt) > now + 5 * 60_000) {
      throw new Problem(400, 'validation', 'Invalid input', 'submittedAt is in the future', [{ path: 'submittedAt', message: 'must not be in the future' }]);
    }
    const [procedure, agency] = await Promise.all([deps.refs.procedure(body.procedureCode), deps.refs.agency(body.agencyId)]);
    const unknown = [
      ...(procedure ? [] : [{ path: 'procedureCode', message: `unknown procedure ${body.procedureCode}` }]),
      ...(agency ? [] : [{ path: 'agencyId', message: `unknown agency ${body.agencyId}` }]),
    ];
    if (unknown.length) throw new Problem(400, 'validation', 'Invalid input', unknown.map((u) => `${u.path}: ${u.message}`).join('; '), unknown);

    const payloadHash = createHash('sha256').update(canonical(body)).digest('hex');
    const submission: Submission = { ...body, submittedAt: body.submittedAt ?? formatInstant(now) } as Submission;
    const workflowId = dossierWorkflowId(body.code);
    let created = true;
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
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const described = await deps.temporal.workflow.getHandle(workflowId).describe();
      if (described.memo?.payloadHash !== payloadHash) {
        throw new Problem(409, 'duplicate-code', 'Code already used', `A different dossier was already submitted with code ${body.code}`);
      }
      created = false;
    }
    const view = await registeredView(workflowId, body.code);
    res.status(created ? 201 : 200).json(viewFor(principal(req), view));
  });

  /** The registered dossier: from the workflow, or from the read model if the workflow has finished. */
  async function registeredView(workflowId: string, code: string): Promise<DossierView> {
    const handle = deps.temporal.workflow.getHandle(workflowId);
    try {
      return await withTimeout(handle.executeUpdate(registeredUpdate), registrationTimeoutMs);
    } catch (err) {
      const doc = await findDossier(deps.db, code);
      if (doc) return doc.view;
      if (err instanceof TimeoutError) throw Problem.unavailable('The dossier was accepted but no worker registered it in time; retry the same request');
      throw err;
    }
  }

  router.get('/v1/dossiers/:code', requireRole('portal', 'manager', 'admin', 'agency', 'courier', 'clerk'), async (req, res) => {
    const code = dossierCode.safeParse(req.params.code);
    if (!code.success) throw Problem.notFound(`No dossier ${req.params.code}`);
    const doc = await findDossier(deps.db, code.data);
    if (!doc || !canSee(principal(req), doc)) throw Problem.notFound(`No dossier ${code.data}`);
    res.json(viewFor(principal(req), doc.view));
  });

  router.post('/v1/dossiers/:code/events', requireRole('portal', 'agency', 'courier', 'clerk'), async (req, res) => {
    const p = principal(req);
    const code = dossierCode.safeParse(req.params.code);
    if (!code.success) throw Problem.notFound(`No dossier ${req.params.code}`);
    const parsed = eventSchema.safeParse(req.body);
    if (!parsed.success) throw Problem.validation(parsed.error);
    const { eventId, occurredAt, ...event } = parsed.data;
    const role = EVENT_ROLES[event.type];
    if (p.role !== role) throw Problem.forbidden(`${event.type} is reported by the ${role} role`);

    const doc = await findDossier(deps.db, code.data);
    // A courier may report on a dossier whose job is not assigned yet (no courier covers the address).
    const visible = doc && (canSee(p, doc) || (p.role === 'courier' && doc.view.job !== null && doc.view.job.courierId === null));
    if (!doc || !visible) throw Problem.notFound(`No dossier ${code.data}`);
    if (eventId) {
      const earlier = doc.view.timeline.find((t) => t.eventId === eventId);
      if (earlier && doc.view.status !== 'submitted') {
        // Already applied (possibly before the workflow finished): the same answer again.
        if (isTerminal(doc.view)) return res.json(viewFor(p, doc.view));
      }
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

function isTerminal(view: DossierView): boolean {
  return ['delivered', 'collected', 'returned_to_agency', 'closed', 'withdrawn', 'cancelled'].includes(view.status);
}

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
