/**
 * The Temporal Schedules the worker process keeps in place at start: the
 * daily compliance snapshot and the read-model reconciliation. Creating is
 * idempotent: a Schedule that already exists is updated to this definition
 * (keeping its paused state and note, which belong to the operator).
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config/config';
import type * as workflows from '../workflows';

/** Checked against the workflows the worker registers, without loading workflow code here. */
type WorkflowType = keyof typeof workflows;
const SNAPSHOT_WORKFLOW: WorkflowType = 'complianceSnapshotWorkflow';
const RECONCILE_WORKFLOW: WorkflowType = 'reconcileReadModelWorkflow';

export const SNAPSHOT_TIMEZONE = 'Asia/Ho_Chi_Minh';

export interface ScheduleSettings {
  taskQueue: string;
  snapshotScheduleId: string;
  /** HH:MM, local time. */
  snapshotTime: string;
  reconcileScheduleId: string;
  reconcileIntervalMinutes: number;
  reconcileBatchSize: number;
}

export function scheduleSettings(config: Config): ScheduleSettings {
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    snapshotScheduleId: config.COMPLIANCE_SNAPSHOT_SCHEDULE_ID,
    snapshotTime: config.COMPLIANCE_SNAPSHOT_TIME,
    reconcileScheduleId: config.RECONCILE_SCHEDULE_ID,
    reconcileIntervalMinutes: config.RECONCILE_INTERVAL_MINUTES,
    reconcileBatchSize: config.RECONCILE_BATCH_SIZE,
  };
}

/** Every day (non-working days too, see docs) at the end of the working day, local time. */
export function snapshotSchedule(s: ScheduleSettings): ScheduleOptions {
  const [hour, minute] = s.snapshotTime.split(':').map(Number) as [number, number];
  return {
    scheduleId: s.snapshotScheduleId,
    spec: { calendars: [{ hour, minute, comment: 'end of the working day' }], timezone: SNAPSHOT_TIMEZONE },
    action: {
      type: 'startWorkflow',
      workflowType: SNAPSHOT_WORKFLOW,
      workflowId: s.snapshotScheduleId,
      taskQueue: s.taskQueue,
      args: [{}],
    },
    policies: {
      // Each run records its own day, so a run stuck on a MongoDB outage must not hold back the next day's.
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
      // After an outage of the Temporal cluster, the missed days of the last week are still taken.
      catchupWindow: '7 days',
    },
  };
}

/** Every `reconcileIntervalMinutes`; a pass still running makes the next one skip. */
export function reconcileSchedule(s: ScheduleSettings): ScheduleOptions {
  return {
    scheduleId: s.reconcileScheduleId,
    spec: { intervals: [{ every: `${s.reconcileIntervalMinutes} minutes` }] },
    action: {
      type: 'startWorkflow',
      workflowType: RECONCILE_WORKFLOW,
      workflowId: s.reconcileScheduleId,
      taskQueue: s.taskQueue,
      args: [{ batchSize: s.reconcileBatchSize }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
  };
}

/** Creates the Schedule, or updates it when it already exists. */
export async function upsertSchedule(client: Client, options: ScheduleOptions): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(options.scheduleId).update((previous) => ({
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    state: { paused: previous.state.paused, note: previous.state.note },
  }));
  return 'updated';
}

export async function ensureSchedules(client: Client, s: ScheduleSettings): Promise<Record<string, 'created' | 'updated'>> {
  return {
    [s.snapshotScheduleId]: await upsertSchedule(client, snapshotSchedule(s)),
    [s.reconcileScheduleId]: await upsertSchedule(client, reconcileSchedule(s)),
  };
}
