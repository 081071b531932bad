/**
 * Keeps the compliance counts' aggregator running: one workflow under a fixed
 * id (workflows/compliance.ts). Starting it is idempotent: a running one is
 * kept as it is, so every worker process can ask at start.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { ComplianceCountsInput } from '../workflows/compliance';
import type * as workflows from '../workflows';

const COUNTS_WORKFLOW: keyof typeof workflows = 'complianceCountsWorkflow';

export interface CountsAggregatorSettings {
  workflowId: string;
  taskQueue: string;
  passIntervalMs: number;
  runForMinutes?: number;
}

/** Starts the aggregator unless it is already running; returns the id of the running chain's first run. */
export async function ensureCountsAggregator(client: Client, s: CountsAggregatorSettings): Promise<string> {
  const args: [ComplianceCountsInput] = [{ passIntervalMs: s.passIntervalMs, ...(s.runForMinutes ? { runForMinutes: s.runForMinutes } : {}) }];
  const handle = await client.workflow.start(COUNTS_WORKFLOW, {
    workflowId: s.workflowId,
    taskQueue: s.taskQueue,
    args,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // One that was terminated or failed is started again.
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
  return handle.firstExecutionRunId;
}
