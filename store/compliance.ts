/**
 * Compliance queries over the `deadlines` read model.
 *
 * FerretDB 1.24 has no $cond/$facet and only $sum/$count accumulators, so the
 * scan fetches the projected fields it needs and aggregates in code
 * (`summarize`, pure, unit-tested); the counts (store/compliance-counts/)
 * tally the same way from pre-aggregated tables. Each group carries the legal figures
 * (judged on the committed `dueAt`) and Decision 766's index (judged on
 * `indexDueAt`, processing only).
 */
import type { Db, Filter } from 'mongodb';
import type { Stage } from '../domain/dossier';
import { countsAtRisk, countsOverdue, countsReady, countsSummary, type CountedRecord, type ListedDeadline } from './compliance-counts';
import { COLLECTIONS } from './db';
import type { DeadlineDoc, StoredDossierDoc } from './documents';
import { viewOf } from './dossier-list';
import { summarize, type SummaryQuery, type Summary } from './tally';

export * from './tally';

/**
 * The compliance summary: deadline records whose original `dueAt` falls in
 * [from, to] as local days. Read from the pre-aggregated counts once the
 * aggregator has built them (store/compliance-counts/), else by scanning
 * the deadline records; both give the same figures.
 */
export async function complianceSummary(db: Db, q: SummaryQuery): Promise<Summary> {
  return (await countsReady(db)) ? countsSummary(db, q) : scanSummary(db, q);
}

/** The fields the figures need from a deadline record, and what the legacy index due is derived from. */
const RECORD_FIELDS = {
  dossierCode: 1,
  version: 1,
  state: 1,
  agencyId: 1,
  procedureCode: 1,
  stage: 1,
  owner: 1,
  district: 1,
  dueAt: 1,
  revisedDueAt: 1,
  startedAt: 1,
  dueDay: 1,
  dueMonth: 1,
  completedAt: 1,
  multipleSupplementRequests: 1,
  indexDueAt: 1,
} as const;

/**
 * The summary computed from the deadline records themselves. `dueDay` is the
 * local day the due ends (a 00:00 due belongs to the day before), so the
 * window is a plain string range on it. On FerretDB 1.24 this reads the whole
 * collection (docs/COMPLIANCE-PERFORMANCE.md).
 */
export async function scanSummary(db: Db, q: SummaryQuery): Promise<Summary> {
  const filter: Filter<DeadlineDoc> = { dueDay: { $gte: q.from, $lte: q.to } };
  if (q.stage) filter.stage = q.stage;
  if (q.agencyId) filter.agencyId = q.agencyId;
  if (q.procedureCode) filter.procedureCode = q.procedureCode;
  const records = (await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find(filter, { projection: RECORD_FIELDS }).toArray()) as unknown as CountedRecord[];
  return summarize(await withLegacyIndexDue(db, records), q.groupBy ?? 'agency');
}

/**
 * Every deadline record, as the counts aggregator checks them, in batches of
 * the cursor's size (one read of the collection).
 */
export async function* countedRecords(db: Db, batchSize = 1000): AsyncGenerator<CountedRecord[]> {
  const cursor = db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find({}, { projection: RECORD_FIELDS, batchSize });
  let batch: CountedRecord[] = [];
  for await (const doc of cursor) {
    batch.push(doc as unknown as CountedRecord);
    if (batch.length === batchSize) {
      yield await withLegacyIndexDue(db, batch);
      batch = [];
    }
  }
  if (batch.length) yield await withLegacyIndexDue(db, batch);
}

/**
 * Records written before `indexDueAt` existed: a dossier that never had a
 * supplement request has the due itself as its index due. Only resolved
 * records with at most one request need it, so the lookup is rare.
 */
async function withLegacyIndexDue(db: Db, records: CountedRecord[]): Promise<CountedRecord[]> {
  const legacy = (r: CountedRecord) => r.stage === 'processing' && r.indexDueAt === undefined && r.completedAt && !r.multipleSupplementRequests;
  const codes = [...new Set(records.filter(legacy).map((r) => r.dossierCode))];
  if (!codes.length) return records;
  const dossiers = await db
    .collection<StoredDossierDoc>(COLLECTIONS.dossiers)
    .find({ _id: { $in: codes } }, { projection: { _id: 1, viewJson: 1, 'view.supplementRequests.count': 1 } })
    .toArray();
  const unsupplemented = new Set(dossiers.filter((d) => viewOf(d).supplementRequests?.count === 0).map((d) => d._id));
  return records.map((r) => (legacy(r) ? { ...r, indexDueAt: unsupplemented.has(r.dossierCode) ? r.dueAt : null } : r));
}

export interface OverdueQuery {
  stage?: Stage;
  agencyId?: string;
  limit: number;
}

/** Deadlines in state `overdue`, oldest `dueAt` first: from the counts once built (store/compliance-counts/), else from the records. */
export async function overdueDeadlines(db: Db, q: OverdueQuery): Promise<ListedDeadline[]> {
  return (await countsReady(db)) ? countsOverdue(db, q) : scanOverdue(db, q);
}

export async function scanOverdue(db: Db, q: OverdueQuery): Promise<ListedDeadline[]> {
  const filter: Filter<DeadlineDoc> = { state: 'overdue' };
  if (q.stage) filter.stage = q.stage;
  if (q.agencyId) filter.agencyId = q.agencyId;
  return db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find(filter)
    .sort({ dueAt: 1, _id: 1 })
    .limit(q.limit)
    .toArray();
}

export interface AtRiskQuery {
  withinHours: number;
  /** Epoch milliseconds. */
  now: number;
  /** The soonest this many; all of the window when absent. */
  limit?: number;
}

/** Open deadlines with `dueAt` in (now, now + withinHours], soonest first: from the counts once built, else from the records. */
export async function atRiskDeadlines(db: Db, q: AtRiskQuery): Promise<ListedDeadline[]> {
  return (await countsReady(db)) ? countsAtRisk(db, q) : scanAtRisk(db, q);
}

export async function scanAtRisk(db: Db, q: AtRiskQuery): Promise<ListedDeadline[]> {
  return db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find({ state: 'open', dueAt: { $gt: new Date(q.now), $lte: new Date(q.now + q.withinHours * 3600_000) } })
    .sort({ dueAt: 1, _id: 1 })
    .limit(q.limit ?? 0)
    .toArray();
}
