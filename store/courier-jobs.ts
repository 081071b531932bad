/**
 * A courier's open jobs through one indexed equality (issue #10): an open job
 * carries `openCourierId` (its courier's id; absent once the job is done,
 * failed or cancelled), so the courier's page reads only that courier's open
 * jobs, not every open job of the office nor every job the courier ever had.
 */
import type { Db, Document, Filter } from 'mongodb';
import { COLLECTIONS } from './db';

/** What the store needs of a courier job document (activities/courier-jobs.ts writes them). */
export interface OpenJobFields {
  _id: string;
  status: string;
  courierId: string | null;
  createdAt: Date;
  openCourierId?: string;
}

/** The key an open job is found by; undefined when the job is closed or has no courier. */
export function openCourierKey(job: Pick<OpenJobFields, 'status' | 'courierId'>): string | undefined {
  return job.status === 'open' && job.courierId !== null ? job.courierId : undefined;
}

/** The courier's open jobs: the key first (the indexed equality FerretDB pushes to SQLite), then what it means. */
export function openJobsFilter(courierId: string): Filter<OpenJobFields> {
  return { openCourierId: courierId, status: 'open', courierId };
}

/** Most open jobs a courier is shown (a day's round is far fewer). */
export const OPEN_JOBS_LIMIT = 500;

/** The courier's open jobs, oldest first; the sort is over that courier's open jobs only. */
export async function openCourierJobs<T extends OpenJobFields & Document>(db: Db, courierId: string): Promise<T[]> {
  const jobs = (await db
    .collection<OpenJobFields>(COLLECTIONS.courierJobs)
    .find(openJobsFilter(courierId))
    .toArray()) as T[];
  return jobs
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0))
    .slice(0, OPEN_JOBS_LIMIT);
}

/**
 * Gives open jobs written before `openCourierId` existed their key. Reads the
 * open jobs only (the `status_courier` index), so it is cheap enough to run at
 * every worker start; idempotent.
 */
export async function backfillOpenCourierKeys(db: Db): Promise<number> {
  const jobs = db.collection<OpenJobFields>(COLLECTIONS.courierJobs);
  let updated = 0;
  for await (const j of jobs.find({ status: 'open' })) {
    const key = openCourierKey(j);
    if (key === undefined || j.openCourierId === key) continue;
    updated += (await jobs.updateOne({ _id: j._id, status: 'open' }, { $set: { openCourierId: key } })).modifiedCount;
  }
  return updated;
}
