/**
 * Daily compliance snapshots (`compliance_snapshots`): what the figures were
 * at the end of a working day, kept so that a month's trend is read back, not
 * recomputed from deadline records that have moved on since.
 */
import type { Db } from 'mongodb';
import { addCalendarDays, dayNumber } from '../domain/calendar';
import type { LocalDate } from '../domain/types';
import { complianceSummary, type Counts } from './compliance';
import { isDuplicateKey } from './db';
import type { ComplianceSnapshot, SnapshotSection } from './documents';

export type { ComplianceSnapshot, SnapshotSection } from './documents';

export const SNAPSHOTS_COLLECTION = 'compliance_snapshots';
/** Bumped when what a snapshot holds changes; old snapshots keep the definition they were taken with. */
export const SNAPSHOT_SCHEMA_VERSION = 1;

export function monthStart(day: LocalDate): LocalDate {
  dayNumber(day);
  return `${day.slice(0, 7)}-01`;
}

const sameCounts = (a: Counts, b: Counts) =>
  a.total === b.total && a.metOnTime === b.metOnTime && a.metLate === b.metLate && a.open === b.open && a.overdue === b.overdue;

/**
 * Both groupings of one window. They are two reads without a transaction, so a
 * projection landing in between could make their totals disagree: read again
 * (a few times) until they match.
 */
async function section(db: Db, from: LocalDate, to: LocalDate): Promise<SnapshotSection> {
  for (let attempt = 1; ; attempt++) {
    const byAgency = await complianceSummary(db, { from, to, groupBy: 'agency' });
    const byStage = await complianceSummary(db, { from, to, groupBy: 'stage' });
    if (sameCounts(byAgency.totals, byStage.totals) || attempt >= 3) {
      return { from, to, byAgency: byAgency.rows, byStage: byStage.rows, totals: byAgency.totals };
    }
  }
}

export async function takeSnapshot(
  db: Db,
  input: { day: LocalDate; workingDay: boolean; scheduledAt: Date | null; now: Date },
): Promise<ComplianceSnapshot> {
  const { day } = input;
  const takenAt = input.now;
  const due = await section(db, day, day);
  const monthToDate = await section(db, monthStart(day), day);
  return {
    _id: day,
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    day,
    month: day.slice(0, 7),
    workingDay: input.workingDay,
    scheduledAt: input.scheduledAt,
    takenAt,
    due,
    monthToDate,
  };
}

/** Stores a day's snapshot, replacing any earlier one of that day. */
export async function writeSnapshot(db: Db, snapshot: ComplianceSnapshot): Promise<void> {
  const col = db.collection<ComplianceSnapshot>(SNAPSHOTS_COLLECTION);
  try {
    await col.replaceOne({ _id: snapshot._id }, snapshot, { upsert: true });
  } catch (err) {
    // Two runs of the same day upserting at once: the other inserted first, so replace it.
    if (!isDuplicateKey(err)) throw err;
    await col.replaceOne({ _id: snapshot._id }, snapshot);
  }
}

/** Snapshots of the days in [from, to] (inclusive), oldest first. */
export async function findSnapshots(db: Db, from: LocalDate, to: LocalDate): Promise<ComplianceSnapshot[]> {
  return db
    .collection<ComplianceSnapshot>(SNAPSHOTS_COLLECTION)
    .find({ _id: { $gte: from, $lte: to } })
    .sort({ _id: 1 })
    .toArray();
}

/** Every day in [from, to], inclusive. */
export function daysBetween(from: LocalDate, to: LocalDate): LocalDate[] {
  const days: LocalDate[] = [];
  for (let d = from; d <= to; d = addCalendarDays(d, 1)) days.push(d);
  return days;
}
