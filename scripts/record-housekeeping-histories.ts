/**
 * Records histories of the housekeeping workflows with the current workflow
 * code, for test/workflow/replay.test.ts: `tsx scripts/record-housekeeping-histories.ts <generation>`.
 * The activities are stand-ins: a replay checks the workflow's commands, not
 * what its activities did. Bump the generation when a housekeeping workflow
 * changes behind `patched()`, and keep the older files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '../test/support/history-json';
import { toolPaths } from './servers';

async function main(): Promise<void> {
  const generation = process.argv[2];
  if (!generation || !/^v\d+$/.test(generation)) throw new Error('usage: record-housekeeping-histories.ts v<N>');
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: toolPaths().temporalTestServer! } } });
  let batch = 0;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'histories',
    workflowsPath: require.resolve('../workflows'),
    activities: {
      async reconcileReadModelBatch() {
        batch++;
        return { checked: 2, candidates: 1, repaired: batch === 1 ? 1 : 0, orphans: 0, notFound: 0, failed: 0, next: batch === 1 ? 'CODE-0002' : null };
      },
      async requestComplianceCountsVerification() {},
      async maintainComplianceCounts() {
        return { passes: 3, applied: 2, verifications: 1, corrected: 0 };
      },
    },
  });
  const save = async (workflowId: string, name: string, runId?: string) => {
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const file = join(__dirname, '..', 'test', 'histories', `housekeeping-${generation}-${name}.json`);
    writeFileSync(file, `${JSON.stringify(historyToJSON(history), null, 2)}\n`);
    console.log(`recorded ${file}`);
  };
  await worker.runUntil(async () => {
    await env.client.workflow.execute('reconcileReadModelWorkflow', { taskQueue: 'histories', workflowId: 'reconcile-pass', args: [{ batchSize: 2 }] });
    await save('reconcile-pass', 'reconcile-pass');
    // One run of the aggregator, up to its continue-as-new.
    const counts = await env.client.workflow.start('complianceCountsWorkflow', { taskQueue: 'histories', workflowId: 'compliance-counts', args: [{ runForMinutes: 1, passIntervalMs: 1000 }] });
    for (let i = 0; i < 100 && (await counts.describe()).runId === counts.firstExecutionRunId; i++) await new Promise((r) => setTimeout(r, 100));
    await save('compliance-counts', 'compliance-counts-run', counts.firstExecutionRunId);
    await counts.terminate('recorded');
  });
  await env.teardown();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
