import { Router } from 'express';
import type { Db } from 'mongodb';
import { z } from 'zod';
import { addCalendarDays, dayNumber, formatInstant, isLocalDate, localDate as localDateOf } from '../../domain/calendar';
import { daysBetween, findSnapshots, type ComplianceSnapshot, type SnapshotSection } from '../../store/snapshots';
import { requireRole } from '../auth';
import { parseOr400 } from '../problem';
import { localDate } from '../schemas';
import type { SnapshotsBody } from '../response-schemas';

export interface ComplianceSnapshotRoutesDeps {
  db: Db;
  /** The clock, for tests; epoch milliseconds. */
  now?: () => number;
}

/** A year and a day: a whole year's trend, whichever day it starts on. */
export const MAX_SNAPSHOT_RANGE_DAYS = 366;

export const snapshotsQuery = z
  .strictObject({ from: localDate, to: localDate })
  .superRefine((q, ctx) => {
    // zod runs this even when a field failed: only compare two real dates.
    if (!isLocalDate(q.from) || !isLocalDate(q.to)) return;
    if (q.from > q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (dayNumber(q.to) - dayNumber(q.from) + 1 > MAX_SNAPSHOT_RANGE_DAYS) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${MAX_SNAPSHOT_RANGE_DAYS} days from from` });
    }
  });

function section(s: SnapshotSection) {
  return { from: s.from, to: s.to, byAgency: s.byAgency, byStage: s.byStage, totals: s.totals };
}

function item(s: ComplianceSnapshot) {
  return {
    day: s.day,
    month: s.month,
    workingDay: s.workingDay,
    scheduledAt: s.scheduledAt ? formatInstant(s.scheduledAt.getTime()) : null,
    takenAt: formatInstant(s.takenAt.getTime()),
    schemaVersion: s.schemaVersion,
    due: section(s.due),
    monthToDate: section(s.monthToDate),
  };
}

export function complianceSnapshotRoutes(deps: ComplianceSnapshotRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;

  router.get('/v1/compliance/snapshots', requireRole('manager', 'admin'), async (req, res) => {
    const q = parseOr400(snapshotsQuery, req.query ?? {}, '(query)');
    const snapshots = await findSnapshots(deps.db, q.from, q.to);
    // Days that are over (up to yesterday) and have no snapshot: a run that never happened, to backfill.
    const yesterday = addCalendarDays(localDateOf(now()), -1);
    const until = q.to < yesterday ? q.to : yesterday;
    const have = new Set(snapshots.map((s) => s._id));
    const missing = q.from <= until ? daysBetween(q.from, until).filter((d) => !have.has(d)) : [];
    res.json({ from: q.from, to: q.to, items: snapshots.map(item), missing } satisfies SnapshotsBody);
  });

  return router;
}
