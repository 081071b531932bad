import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from 'mongodb';
import { countedRecords } from '../store/compliance';
import { CountsAggregator, CountsConflictError, countsState, COUNTS_COLLECTIONS, PASS_BATCH, requestCountsVerification, type VerifyResult } from '../store/compliance-counts';
import type { CountsRunInput, CountsRunResult } from '../workflows/contracts';
import { withinAttempt } from './attempt';
import type { WorkflowAccess } from './workflow-access';

/**
 * The aggregator heartbeats on a timer, beside each pass: the heartbeat says
 * the worker is alive, so its heartbeat timeout (workflows/compliance-counts.ts) can be
 * seconds, and an attempt lost with a killed worker is retried that soon,
 * while a pass held up by a slow read model, or a long load or verification,
 * is not taken for dead.
 */
export const COUNTS_HEARTBEAT_EVERY_MS = 3000;

/**
 * The compliance counts' single writer (store/compliance-counts/), as one
 * long activity: it loads the members, verifies them against the deadline
 * records when they were never built or when asked to, then applies change
 * records every `passIntervalMs`, heartbeating, until `runForMs` is up.
 */
export function createComplianceCountsActivities(deps: {
  db: Db;
  /** With its ensureCountsAggregator, a verification request also starts the aggregator if it is not running (someone terminated it). */
  workflows?: WorkflowAccess;
}) {
  const requests = deps.db.collection<{ _id: string; reason: string }>(COUNTS_COLLECTIONS.requests);
  return {
    /** Idempotent: one request per id; the aggregator serves it at its next pass. */
    async requestComplianceCountsVerification(input: { requestId: string; reason: string }): Promise<void> {
      await requestCountsVerification(deps.db, input.reason, input.requestId);
      const { workflows } = deps;
      if (workflows?.ensureCountsAggregator) await withinAttempt(workflows.temporal, workflows.ensureCountsAggregator);
    },

    async maintainComplianceCounts(input: CountsRunInput): Promise<CountsRunResult> {
      const ctx = Context.current();
      const totals: CountsRunResult = { passes: 0, applied: 0, verifications: 0, corrected: 0 };
      const aggregator = new CountsAggregator(deps.db);
      const until = Date.now() + input.runForMs;
      const pass = async () => {
        const r = await aggregator.pass();
        totals.passes++;
        totals.applied += r.applied;
        ctx.heartbeat(totals);
        return r;
      };
      const verify = async (reasons: string[]): Promise<VerifyResult> => {
        const r = await aggregator.verify(countedRecords(deps.db), {
          between: async () => {
            // A verification reads every record; keep the counts live meanwhile.
            if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
            await pass();
          },
        });
        totals.verifications++;
        totals.corrected += r.corrected;
        log.info('compliance counts verified', { ...r, reasons });
        return r;
      };
      const beating = setInterval(() => ctx.heartbeat(totals), COUNTS_HEARTBEAT_EVERY_MS);
      try {
        ctx.heartbeat(totals);
        const loaded = await aggregator.load();
        log.info('compliance counts loaded', { ...loaded, deadlines: aggregator.size });
        if (!(await countsState(deps.db))) await verify(['not built yet']);
        while (Date.now() < until) {
          const r = await pass();
          const asked = await requests.find({}).limit(50).toArray();
          if (asked.length) {
            await verify(asked.map((a) => a.reason));
            // Served: only the requests read before the verification began.
            await requests.deleteMany({ _id: { $in: asked.map((a) => a._id) } });
          }
          // A full batch means more is waiting: go on at once. Sleep rejects when the activity is cancelled.
          if (r.read < PASS_BATCH && !asked.length) await ctx.sleep(input.passIntervalMs);
        }
        return totals;
      } catch (err) {
        if (err instanceof CountsConflictError) {
          // Another aggregator wrote meanwhile (a zombie attempt): retry, which reloads.
          throw ApplicationFailure.retryable(err.message, 'CountsConflict');
        }
        throw err;
      } finally {
        clearInterval(beating);
      }
    },
  };
}
