/**
 * Helpers the HTTP API tests share: what a problem+json answer must look
 * like, a dossier brought to a quiet state, and snapshots of the read model.
 */
import type { Db, Document } from 'mongodb';
import type { DossierView } from '../../domain/dossier';
import type { Submission } from '../../domain/types';
import { COLLECTIONS } from '../../store/db';
import type { DossierDoc } from '../../store/read-model';
import type { System } from './system';

export type Answer = Awaited<ReturnType<System['request']>>;

/** An RFC 9457 answer with `status`; a validation error names at least one field. Returns the problem for more checks. */
export function expectProblem(res: Answer, status: number): { type: string; errors?: { path: string; message: string }[] } {
  expect({ status: res.status, body: res.body }).toEqual({ status, body: expect.objectContaining({ status }) });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toEqual(expect.objectContaining({ type: expect.any(String), title: expect.any(String), detail: expect.any(String) }));
  if (res.body.type === '/problems/validation') {
    expect(res.body.errors).toEqual(expect.arrayContaining([{ path: expect.any(String), message: expect.any(String) }]));
    expect(res.body.errors.length).toBeGreaterThan(0);
  }
  return res.body;
}

/** Every collection the API or the worker writes, the read model and the reference data. */
export const ALL_COLLECTIONS = Object.values(COLLECTIONS);

/** Every document of the named collections, in `_id` order. */
export async function snapshot(db: Db, collections: readonly string[] = ALL_COLLECTIONS): Promise<Record<string, Document[]>> {
  const out: Record<string, Document[]> = {};
  for (const name of collections) out[name] = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
  return out;
}

/** The workflow's own view (the source of truth), or null when there is no such workflow. */
export function workflowView(sys: System, code: string): Promise<DossierView | null> {
  return sys.dossiers.view(code);
}

/**
 * Submits (201) and waits until the dossier is `ready`, the read model has the
 * workflow's latest version, no activity is pending and the collections stop
 * moving: from then on only a request can change anything.
 */
export async function submitAndSettle(sys: System, body: Submission, ready: (v: DossierView) => boolean): Promise<DossierView> {
  const created = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body });
  expect(created.status).toBe(201);
  const handle = sys.dossiers.handle(body.code);
  let previous = '';
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [view, doc, described] = await Promise.all([
      sys.dossiers.view(body.code),
      sys.db.collection<DossierDoc>(COLLECTIONS.dossiers).findOne({ _id: body.code }),
      handle.describe(),
    ]);
    const quiet = view !== null && ready(view) && doc?.version === view.version && (described.raw.pendingActivities?.length ?? 0) === 0;
    const now = quiet ? JSON.stringify(await snapshot(sys.db)) : '';
    if (quiet && now === previous) return view!;
    if (Date.now() > deadline) throw new Error(`dossier ${body.code} did not settle: ${JSON.stringify({ status: view?.status, version: view?.version, read: doc?.version })}`);
    previous = now;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Collect-and-deliver, prepaid: paid and waiting for its (assigned) pickup courier. */
export const awaitingAssignedPickup = (v: DossierView): boolean =>
  v.status === 'awaiting_pickup' && v.job !== null && v.job.courierId !== null && v.courierIds.length > 0 && v.fees.paidVnd > 0;
