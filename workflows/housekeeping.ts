/**
 * Read-model housekeeping run by Temporal Schedules (workers/schedules.ts):
 * the daily compliance snapshot and the reconciliation pass. The work is in
 * activities.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ApplicationFailure, continueAsNew, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { formatInstant, isLocalDate, localDate } from '../domain/calendar';
import { addCounts, EMPTY_COUNTS, type ComplianceSnapshotInput, type ReconcileCounts, type ReconcileInput, type ReconcileResult, type SnapshotResult } from './contracts';

/** Set by the server on every workflow a Schedule starts: the action's nominal time, also for a late or backfilled one. */
export const scheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

// The read model may be down for a while: retry without limit, backing off; the run still records its own day.
const snapshots = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', nonRetryableErrorTypes: ['InvalidSnapshotInput'] },
});

// A failed pass is not retried for long: the next scheduled pass starts over anyway.
const maintenance = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5, nonRetryableErrorTypes: ['ReconcileUnavailable'] },
});

/** The Schedule's nominal start time of this run, if a Schedule started it. */
function scheduledStartTime(): Date | null {
  const at = workflowInfo().typedSearchAttributes.get(scheduledStartTimeKey);
  return at instanceof Date && !Number.isNaN(at.getTime()) ? at : null;
}

/**
 * Records one day's compliance snapshot (`compliance_snapshots`, _id = the
 * day). The day comes from the input, else from the Schedule's nominal time,
 * so a run that starts late or is backfilled records the day it stands for.
 */
export async function complianceSnapshotWorkflow(input: ComplianceSnapshotInput = {}): Promise<SnapshotResult> {
  if (input.day !== undefined && !isLocalDate(input.day)) {
    throw ApplicationFailure.nonRetryable(`day must be a date, YYYY-MM-DD: ${String(input.day)}`, 'InvalidSnapshotInput');
  }
  const scheduled = input.day === undefined ? scheduledStartTime() : null;
  const day = input.day ?? localDate(scheduled ? scheduled.getTime() : Date.now());
  return snapshots.recordComplianceSnapshot({ day, scheduledAt: scheduled ? formatInstant(scheduled.getTime()) : null });
}

/**
 * One reconciliation pass over the read model (store/reconcile.ts), a batch
 * of dossiers per activity (the hour walk; a pass begun by code ranges ends
 * by them). Returns the pass's counts.
 */
export async function reconcileReadModelWorkflow(input: ReconcileInput = {}): Promise<ReconcileResult> {
  const batchSize = input.batchSize ?? 200;
  const batchesPerRun = input.batchesPerRun ?? 100;
  for (const [name, n] of [['batchSize', batchSize], ['batchesPerRun', batchesPerRun]] as const) {
    if (!Number.isSafeInteger(n) || n < 1) throw ApplicationFailure.nonRetryable(`${name} must be a positive integer: ${n}`, 'InvalidReconcileInput');
  }
  let after = input.after ?? null;
  let totals: ReconcileCounts = input.totals ?? EMPTY_COUNTS;
  let batches = input.batches ?? 0;
  for (let i = 0; i < batchesPerRun; i++) {
    const { next, ...counts } = await maintenance.reconcileReadModelBatch({ after, batchSize });
    totals = addCounts(totals, counts);
    batches++;
    if (next === null) {
      if (patched('reconcile-verifies-counts')) {
        // The counts' aggregator checks them against the records just reconciled (its own single writer does it).
        await maintenance.requestComplianceCountsVerification({ requestId: `reconcile:${workflowInfo().runId}`, reason: 'reconciliation pass done' });
      }
      log.info('reconcile: pass done', { ...totals, batches });
      return { ...totals, batches };
    }
    after = next;
  }
  return continueAsNew<typeof reconcileReadModelWorkflow>({ batchSize, after, totals, batches, batchesPerRun });
}
