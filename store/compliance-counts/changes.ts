/**
 * What the rest of the system writes for the compliance counts: a change
 * record next to each deadline write, and verification requests. Only the
 * aggregator (./aggregator.ts) writes the counts themselves.
 */
import type { Db } from 'mongodb';
import { isDuplicateKey, onlyDuplicateKeys } from '../db';
import type { DeadlineDoc } from '../documents';
import { decision766Outcome, type SummaryRecord } from '../tally';
import { encodeKey, encodeListFields } from './codec';
import { COUNTS_COLLECTIONS, type ChangeDoc, type CountsRequestDoc, type CountsState } from './tables';

/** A deadline record as the counts see it. */
export type CountedRecord = SummaryRecord & Pick<DeadlineDoc, '_id' | 'version' | 'dossierCode' | 'dueAt' | 'revisedDueAt' | 'startedAt'>;

/** The dimensions a summary groups or filters on, Decision 766's outcome judged on the same record, and the list fields. */
export function changeOf(d: CountedRecord): ChangeDoc {
  const key = encodeKey({ agencyId: d.agencyId, procedureCode: d.procedureCode, stage: d.stage, owner: d.owner, district: d.district, outcome: decision766Outcome(d) });
  return { _id: `${d._id}@${d.version}`, id: d._id, v: d.version, day: d.dueDay, key, state: d.state, item: encodeListFields(d) };
}

/** Inserts the change record of a deadline write; a retry or a duplicate is a no-op. */
export async function recordDeadlineChange(db: Db, d: CountedRecord): Promise<void> {
  try {
    await db.collection<ChangeDoc>(COUNTS_COLLECTIONS.changes).insertOne(changeOf(d));
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/** The change records of several deadline writes in one command (unordered: a duplicate does not stop the others). */
export async function recordDeadlineChanges(db: Db, ds: CountedRecord[]): Promise<void> {
  if (ds.length <= 1) return ds.length ? recordDeadlineChange(db, ds[0]!) : undefined;
  try {
    await db.collection<ChangeDoc>(COUNTS_COLLECTIONS.changes).insertMany(ds.map(changeOf), { ordered: false });
  } catch (err) {
    if (!onlyDuplicateKeys(err)) throw err;
  }
}

export async function countsState(db: Db): Promise<CountsState | null> {
  return db.collection<CountsState>(COUNTS_COLLECTIONS.meta).findOne({ _id: 'state' });
}

export async function countsReady(db: Db): Promise<boolean> {
  return (await countsState(db)) !== null;
}

/** Asks the aggregator to verify the counts against the deadline records; returns the request's id. */
export async function requestCountsVerification(db: Db, reason: string, id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`): Promise<string> {
  try {
    await db.collection<CountsRequestDoc>(COUNTS_COLLECTIONS.requests).insertOne({ _id: id, reason, at: new Date() });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  return id;
}
