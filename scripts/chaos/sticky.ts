/**
 * Workflow tasks that waited out a sticky queue, from the dossiers' histories:
 * the cost of WORKER_STICKY_QUEUE_TIMEOUT_MS (each such task runs again on the
 * normal queue, replaying the workflow from its history if the worker that
 * takes it had not cached it).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { dossierWorkflowId } from '../../workflows/messages';

export interface StickyCount {
  dossiers: number;
  /** Workflow tasks scheduled in all. */
  tasks: number;
  /** Of them, timed out before a worker took them (schedule-to-start: only sticky queues have that timeout). */
  stickyTimeouts: number;
  /** Of them, taken by a worker that did not finish them in time (start-to-close: a worker killed with the task, or stalled). */
  startedTimeouts: number;
}

export async function countStickyTimeouts(client: Client, codes: string[], parallel = 4): Promise<StickyCount> {
  const count: StickyCount = { dossiers: 0, tasks: 0, stickyTimeouts: 0, startedTimeouts: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < codes.length) {
        const code = codes[next++]!;
        const history = await client.workflow.getHandle(dossierWorkflowId(code)).fetchHistory().catch(() => null);
        if (!history) continue;
        count.dossiers += 1;
        for (const e of history.events ?? []) {
          if (e.workflowTaskScheduledEventAttributes) count.tasks += 1;
          const timedOut = e.workflowTaskTimedOutEventAttributes?.timeoutType;
          if (timedOut === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START) count.stickyTimeouts += 1;
          if (timedOut === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE) count.startedTimeouts += 1;
        }
      }
    }),
  );
  return count;
}
