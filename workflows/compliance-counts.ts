/**
 * The compliance counts' aggregator, one long-lived workflow per deployment
 * (started by the worker, clients/dossiers.ts). The work is in
 * activities.
 */
import { ApplicationFailure, continueAsNew, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ComplianceCountsInput } from './contracts';

// The aggregator runs for as long as the deployment does: every failure is retried, backing off to a minute.
const counts = proxyActivities<Activities>({
  // A run passes for `runForMinutes`, plus one verification that may have begun just before (a full read of the deadlines).
  startToCloseTimeout: '2 hours',
  // It heartbeats on a timer every few seconds: an attempt lost with a killed worker is retried within this,
  // so the counts do not lag the records for a minute after a worker crash.
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['InvalidCountsInput'] },
});

/**
 * The compliance counts' single writer (store/compliance-counts/). One per
 * deployment, under a fixed workflow id, so Temporal guarantees one running
 * aggregator; it never completes.
 */
export async function complianceCountsWorkflow(input: ComplianceCountsInput = {}): Promise<never> {
  const runForMinutes = input.runForMinutes ?? 10;
  const passIntervalMs = input.passIntervalMs ?? 1000;
  if (!(runForMinutes > 0 && runForMinutes <= 60)) throw ApplicationFailure.nonRetryable(`runForMinutes must be in (0, 60]: ${runForMinutes}`, 'InvalidCountsInput');
  if (!Number.isSafeInteger(passIntervalMs) || passIntervalMs < 50 || passIntervalMs > 60_000) {
    throw ApplicationFailure.nonRetryable(`passIntervalMs must be an integer in [50, 60000]: ${passIntervalMs}`, 'InvalidCountsInput');
  }
  const run = await counts.maintainComplianceCounts({ runForMs: runForMinutes * 60_000, passIntervalMs });
  log.info('compliance counts: run done', { ...run });
  return continueAsNew<typeof complianceCountsWorkflow>({ runForMinutes, passIntervalMs });
}
