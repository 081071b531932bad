/** The worker's settings reach the SDK's options: the sticky queue timeout (issue #13: events waited 10 s after a worker kill). */
import { loadConfig } from '../../config/config';
import { capacityOptions, workerCapacity } from '../../workers/worker';

const secret = { AUTH_JWT_SECRET: 'x'.repeat(32) };

test('WORKER_STICKY_QUEUE_TIMEOUT_MS: 2 s by default instead of the SDK 10 s, set by the environment, refused below 0.5 s', () => {
  expect(capacityOptions(workerCapacity(loadConfig(secret))).stickyQueueScheduleToStartTimeout).toBe(2000);
  expect(capacityOptions(workerCapacity(loadConfig({ ...secret, WORKER_STICKY_QUEUE_TIMEOUT_MS: '5000' }))).stickyQueueScheduleToStartTimeout).toBe(5000);
  expect(() => loadConfig({ ...secret, WORKER_STICKY_QUEUE_TIMEOUT_MS: '100' })).toThrow(/WORKER_STICKY_QUEUE_TIMEOUT_MS/);
});

test('WORKER_MAX_CACHED_WORKFLOWS=0: one workflow task at a time (a task or query taken beside it would wait for the one run sdk-core holds)', () => {
  const cacheless = capacityOptions(workerCapacity(loadConfig({ ...secret, WORKER_MAX_CACHED_WORKFLOWS: '0', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '12' })));
  expect(cacheless).toMatchObject({ maxCachedWorkflows: 0, maxConcurrentWorkflowTaskExecutions: 1, maxConcurrentWorkflowTaskPolls: 1 });
  const cached = capacityOptions(workerCapacity(loadConfig({ ...secret, WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '12' })));
  expect(cached).toMatchObject({ maxConcurrentWorkflowTaskExecutions: 12 });
});
