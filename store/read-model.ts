import type { Db, Filter } from 'mongodb';
import { dueDay, parseInstant } from '../domain/calendar';
import type { DeadlineView, DossierView } from '../domain/dossier';
import { recordDeadlineChange } from './compliance-counts';
import { COLLECTIONS, isDuplicateKey } from './db';
import type { DeadlineDoc, DossierDoc } from './documents';
import { listKeys, recordListDay } from './dossier-list';

export type { DeadlineDoc, DossierDoc } from './documents';

const date = (s: string | null): Date | null => (s ? new Date(parseInstant(s)) : null);

/**
 * Writes a dossier's projection. Idempotent and monotonic without
 * transactions: each document is replaced only by a newer version, so a
 * retried, replayed or out-of-order write never moves it backwards. Each
 * deadline write also records a change for the compliance counts
 * (store/compliance-counts/), which apply the same rule.
 */
export async function writeProjection(db: Db, view: DossierView): Promise<{ written: boolean }> {
  const submittedAt = date(view.submittedAt)!;
  const doc: DossierDoc = {
    _id: view.code,
    version: view.version,
    view,
    status: view.status,
    agencyId: view.agencyId,
    procedureCode: view.procedureCode,
    district: view.delivery?.method === 'home' ? view.delivery.address.district : (view.pickupAddress?.district ?? ''),
    phoneLast4: view.applicant.phone.slice(-4),
    courierIds: view.courierIds,
    submittedAt,
    updatedAt: date(view.updatedAt)!,
    nextDueAt: date(view.nextDueAt),
    ...listKeys({ agencyId: view.agencyId, status: view.status, procedureCode: view.procedureCode, submittedAt }),
  };
  // Deadlines first: the dossier's version is what readers trust to be complete.
  for (const d of view.deadlines) {
    const day = dueDay(d.dueAt);
    const deadline: DeadlineDoc = {
      _id: `${view.code}:${d.stage}`,
      dossierCode: view.code,
      version: view.version,
      stage: d.stage,
      owner: d.owner,
      agencyId: view.agencyId,
      procedureCode: view.procedureCode,
      district: doc.district,
      startedAt: date(d.startedAt)!,
      dueAt: date(d.dueAt)!,
      dueDay: day,
      dueMonth: day.slice(0, 7),
      revisedDueAt: date(d.revisedDueAt),
      completedAt: date(d.completedAt),
      state: d.state,
      atRisk: d.atRisk,
      supplementWorkingDays: d.supplementWorkingDays,
      multipleSupplementRequests: view.multipleSupplementRequests,
      indexDueAt: date(indexDueAt(view, d)),
      dossierStatus: view.status,
    };
    await writeDeadline(db, deadline);
  }
  // The day before the dossier: a list page walks only the days it knows (store/dossier-list.ts).
  await recordListDay(db, submittedAt);
  return { written: await upsertIfNewer<DossierDoc>(db, COLLECTIONS.dossiers, doc) };
}

/** One deadline record, and its change record for the compliance counts. */
export async function writeDeadline(db: Db, deadline: DeadlineDoc): Promise<{ written: boolean }> {
  const written = await upsertIfNewer(db, COLLECTIONS.deadlines, deadline);
  // Also when the write found a newer or equal version: a crash may have come between the two.
  await recordDeadlineChange(db, deadline);
  return { written };
}

/** A view from before `indexDueAt` existed: without a supplement the index due is the due itself. */
function indexDueAt(view: DossierView, d: DeadlineView): string | null {
  if (d.stage !== 'processing') return null;
  if (d.indexDueAt !== undefined) return d.indexDueAt;
  return view.supplementRequests.count === 0 ? d.dueAt : null;
}

async function upsertIfNewer<T extends { _id: string; version: number }>(db: Db, collection: string, doc: T): Promise<boolean> {
  const olderThanThis = { _id: doc._id, version: { $lt: doc.version } } as Filter<T>;
  try {
    const r = await db.collection<T>(collection).replaceOne(olderThanThis, doc, { upsert: true });
    return r.modifiedCount + r.upsertedCount > 0;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // The document exists: either at this version or newer, or another first insert won
    // the race. Now that it exists, the guarded replace without upsert tells them apart.
    const r = await db.collection<T>(collection).replaceOne(olderThanThis, doc);
    return r.modifiedCount > 0;
  }
}

export async function findDossier(db: Db, code: string): Promise<DossierDoc | null> {
  return db.collection<DossierDoc>(COLLECTIONS.dossiers).findOne({ _id: code });
}
