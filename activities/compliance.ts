import { ApplicationFailure } from '@temporalio/common';
import type { Db } from 'mongodb';
import { isLocalDate, parseInstant, WorkingCalendar } from '../domain/calendar';
import type { ReferenceData } from '../store/reference-data';
import { takeSnapshot, writeSnapshot } from '../store/snapshots';
import type { SnapshotInput, SnapshotResult } from '../workflows/contracts';

/** The daily compliance snapshot (store/snapshots.ts), read from and written to the read model. */
export function createComplianceActivities(deps: { db: Db; refs: ReferenceData; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return {
    async recordComplianceSnapshot(input: SnapshotInput): Promise<SnapshotResult> {
      if (!isLocalDate(input.day)) throw ApplicationFailure.nonRetryable(`not a date: ${String(input.day)}`, 'InvalidSnapshotInput');
      const calendar = new WorkingCalendar(await deps.refs.calendars([Number(input.day.slice(0, 4))]));
      const workingDay = calendar.isWorkingDay(input.day);
      const snapshot = await takeSnapshot(deps.db, {
        day: input.day,
        workingDay,
        scheduledAt: input.scheduledAt ? new Date(parseInstant(input.scheduledAt)) : null,
        now: new Date(now()),
      });
      await writeSnapshot(deps.db, snapshot);
      return { day: input.day, workingDay, due: snapshot.due.totals, monthToDate: snapshot.monthToDate.totals };
    },
  };
}
