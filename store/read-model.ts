import { createHash } from 'node:crypto';
import type { Db, Filter } from 'mongodb';
import { dueDay, parseInstant } from '../domain/calendar';
import type { DeadlineView, DossierView } from '../domain/dossier';
import { recordDeadlineChanges } from './compliance-counts';
import { COLLECTIONS, isDuplicateKey, onlyDuplicateKeys, writeErrors } from './db';
import type { DeadlineDoc, DossierDoc, StoredDossierDoc } from './documents';
import { dossierOf, listKeys, recordListDay } from './dossier-list';

export type { DeadlineDoc, DossierDoc, StoredDossierDoc } from './documents';

const date = (s: string | null): Date | null => (s ? new Date(parseInstant(s)) : null);

/** A short fingerprint of a view's stored JSON, so reconciliation can tell two views of one version apart. */
export const viewHashOf = (view: DossierView): string => hashJson(JSON.stringify(view));
const hashJson = (json: string): string => createHash('sha256').update(json).digest('base64url').slice(0, 16);

export interface ProjectionOptions {
  /**
   * 'replace': a document at this same version is replaced too (`$lte`). Only for
   * reconciliation's repair, which writes the workflow's view over a same-version
   * view that differs; the live path keeps the strict guard.
   */
  sameVersion?: 'keep' | 'replace';
}

/**
 * Writes a dossier's projection. Idempotent and monotonic without
 * transactions: each document is replaced only by a newer version, so a
 * retried, replayed or out-of-order write never moves it backwards. Each
 * deadline write also records a change for the compliance counts
 * (store/compliance-counts/), which apply the same rule.
 */
export async function writeProjection(db: Db, view: DossierView, opts: ProjectionOptions = {}): Promise<{ written: boolean }> {
  const submittedAt = date(view.submittedAt)!;
  const viewJson = JSON.stringify(view);
  const replaceSame = opts.sameVersion === 'replace';
  const doc: StoredDossierDoc = {
    _id: view.code,
    version: view.version,
    viewJson,
    viewHash: hashJson(viewJson),
    deadlineStages: view.deadlines.map((d) => d.stage),
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
  // The day and hour first: a list page walks only the days it knows, and reconciliation finds
  // deadlines whose dossier write never came (a crash) only in the hours it knows (store/dossier-list.ts).
  await recordListDay(db, submittedAt);
  // Deadlines before the dossier: the dossier's version is what readers trust to be complete.
  const deadlines = view.deadlines.map((d): DeadlineDoc => {
    const day = dueDay(d.dueAt);
    return {
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
      listHour: doc.listHour,
    };
  });
  await writeDeadlines(db, deadlines, replaceSame);
  return { written: await upsertIfNewer<StoredDossierDoc>(db, COLLECTIONS.dossiers, doc, replaceSame) };
}

/** One deadline record, and its change record for the compliance counts. */
export async function writeDeadline(db: Db, deadline: DeadlineDoc): Promise<{ written: boolean }> {
  return { written: (await writeDeadlines(db, [deadline]))[0]! };
}

/**
 * Deadline records, then their change records for the compliance counts: one
 * command for all the records and one for all the changes, not two per
 * deadline (FerretDB pays per command, issue #13). Returns, per deadline,
 * whether it was written.
 */
export async function writeDeadlines(db: Db, deadlines: DeadlineDoc[], replaceSame = false): Promise<boolean[]> {
  if (!deadlines.length) return [];
  const written = await upsertAllIfNewer(db, COLLECTIONS.deadlines, deadlines, replaceSame);
  // Also when a write found a newer or equal version: a crash may have come between the two.
  await recordDeadlineChanges(db, deadlines);
  return written;
}

/** A view from before `indexDueAt` existed: without a supplement the index due is the due itself. */
function indexDueAt(view: DossierView, d: DeadlineView): string | null {
  if (d.stage !== 'processing') return null;
  if (d.indexDueAt !== undefined) return d.indexDueAt;
  return view.supplementRequests.count === 0 ? d.dueAt : null;
}

/** The guarded replace: matches only a stored version older than this one (or, for a repair, the same one). */
const guardOf =
  (replaceSame: boolean) =>
  <T extends { _id: string; version: number }>(doc: T) =>
    ({ _id: doc._id, version: replaceSame ? { $lte: doc.version } : { $lt: doc.version } }) as Filter<T>;

async function upsertIfNewer<T extends { _id: string; version: number }>(db: Db, collection: string, doc: T, replaceSame = false): Promise<boolean> {
  const olderThan = guardOf(replaceSame);
  try {
    const r = await db.collection<T>(collection).replaceOne(olderThan(doc), doc, { upsert: true });
    return r.modifiedCount + r.upsertedCount > 0;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // The document exists: either at this version or newer, or another first insert won
    // the race. Now that it exists, the guarded replace without upsert tells them apart.
    const r = await db.collection<T>(collection).replaceOne(olderThan(doc), doc);
    return r.modifiedCount > 0;
  }
}

/**
 * `upsertIfNewer` for several documents, one command while none finds its
 * document at this version or newer. Ordered: FerretDB stops an update
 * command at its first error even when asked not to, so the statement that
 * failed on a duplicate key (a document at this version or newer, or a
 * racing first insert) gets the guarded replace without upsert, as there,
 * and the batch goes on from the next one.
 */
async function upsertAllIfNewer<T extends { _id: string; version: number }>(db: Db, collection: string, docs: T[], replaceSame: boolean): Promise<boolean[]> {
  if (docs.length === 1) return [await upsertIfNewer(db, collection, docs[0]!, replaceSame)];
  const olderThan = guardOf(replaceSame);
  const written = docs.map(() => true);
  for (let from = 0; from < docs.length; ) {
    try {
      await db.collection<T>(collection).bulkWrite(
        docs.slice(from).map((doc) => ({ replaceOne: { filter: olderThan(doc), replacement: doc, upsert: true } })),
        { ordered: true },
      );
      // Each statement replaced an older version or inserted; any other outcome is a write error.
      return written;
    } catch (err) {
      if (!onlyDuplicateKeys(err)) throw err;
      // The statements before the failed one were written.
      const failed = from + Math.min(...writeErrors(err).map((e) => e.index));
      const doc = docs[failed]!;
      written[failed] = (await db.collection<T>(collection).replaceOne(olderThan(doc), doc)).modifiedCount > 0;
      from = failed + 1;
    }
  }
  return written;
}

export async function findDossier(db: Db, code: string): Promise<DossierDoc | null> {
  const stored = await db.collection<StoredDossierDoc>(COLLECTIONS.dossiers).findOne({ _id: code });
  return stored && (dossierOf(stored) as DossierDoc);
}
