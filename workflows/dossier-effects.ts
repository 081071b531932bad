/**
 * The dossier workflow's side of the outside world: its activities, with their
 * timeouts and retries, and how each lifecycle effect is carried out. Runs
 * inside the workflow (activities are imported as types only).
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { WorkingCalendar } from '../domain/calendar';
import type { DossierState, DossierView } from '../domain/dossier';
import { toView, type Effect, type SystemEvent } from '../domain/lifecycle';
import { dossierContextYears, type Submission } from '../domain/types';

const reference = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['ReferenceDataMissing'] },
});

// Agencies' systems and the payment gateway can be down for hours: retry without limit, backing off.
const external = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

const READ_MODEL_RETRY = { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' } as const;

/** The quick writes to our own read model (no outside system behind them). */
type ReadModelWrites = Pick<Activities, 'projectDossier' | 'recordCashPayment' | 'dispatchCourier' | 'closeCourierJob' | 'cancelCourierJobs'>;

// Before `read-model-writes-local`: every write a task on the task queue, three history events each.
const queuedWrites: ReadModelWrites = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: READ_MODEL_RETRY });

// Run by the worker that runs the workflow task: no task-queue round trip, one marker event.
// Never outliving the task: an attempt lasts at most 3 s and every retry waits on a durable timer,
// in a task of its own. A write held past the task's heartbeat (80 % of its 10 s timeout) resolves
// in a later task, beside that task's new events, and the SDK replays that resolution before them:
// other commands, nondeterminism (docs/DECISIONS.md, "Local activities for the read-model writes").
const localWrites: ReadModelWrites = proxyLocalActivities<Activities>({ startToCloseTimeout: '3 seconds', localRetryThreshold: '100 milliseconds', retry: READ_MODEL_RETRY });

// Notifications stay queued activities: with NOTIFY_WEBHOOK_URL they call an outside webhook that can be
// down for hours, and a local activity's retries would then be a timer and a workflow task each.
const notifications = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: READ_MODEL_RETRY });

/**
 * The read-model writes the way a dossier decided at its start (the `read-model-writes-local` patch);
 * called once per workflow. Local ones run one at a time: two in flight could complete in either
 * order, each waking the workflow separately, while a replay resolves them from their markers
 * together, so the commands that followed them would come in another order (nondeterminism).
 */
export function readModelWrites(local: boolean): ReadModelWrites {
  if (!local) return queuedWrites;
  let last: Promise<unknown> = Promise.resolve();
  const inTurn =
    <A, R>(write: (input: A) => Promise<R>) =>
    (input: A): Promise<R> => {
      const done = last.then(() => write(input));
      last = done.catch(() => undefined);
      return done;
    };
  return {
    projectDossier: inTurn(localWrites.projectDossier),
    recordCashPayment: inTurn(localWrites.recordCashPayment),
    dispatchCourier: inTurn(localWrites.dispatchCourier),
    closeCourierJob: inTurn(localWrites.closeCourierJob),
    cancelCourierJobs: inTurn(localWrites.cancelCourierJobs),
  };
}

// Since `dossier-context-local`: the submission's reference data read by the worker that runs the
// first workflow task, so the dossier registers in that task (no task-queue round trip, no second task).
// Short attempts, each retry on a durable timer: a read model that does not answer never holds the
// workflow task (a worker asked to stop could not drain it, and its run then failed at the force bound).
const localReference = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 seconds',
  localRetryThreshold: '500 milliseconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['ReferenceDataMissing'] },
});

/**
 * Reference data and the calendar for a submission reach the workflow through an activity (so
 * replay sees them), queued or (`local`) local. The activity's own promise, not an async wrapper:
 * no extra await, so the workflow's steps interleave exactly as they did when it called the activity itself.
 */
export function loadDossierContext(submission: Submission, local: boolean) {
  const input = { procedureCode: submission.procedureCode, agencyId: submission.agencyId, years: dossierContextYears(submission.submittedAt) };
  return local ? localReference.loadDossierContext(input) : reference.loadDossierContext(input);
}

/** The calendar's years as stored now, for those it had plus this year and the next. */
export async function refreshCalendar(current: WorkingCalendar): Promise<WorkingCalendar> {
  const years = current.years.map((y) => y.year);
  const thisYear = new Date(Date.now()).getUTCFullYear();
  const wanted = [...new Set([...years, thisYear, thisYear + 1])].sort();
  return new WorkingCalendar(await reference.loadCalendar({ years: wanted }));
}

/** Writes the view to the read model (the activity's own promise, as loadDossierContext). */
export function projectView(view: DossierView, writes: ReadModelWrites): Promise<unknown> {
  return writes.projectDossier({ view });
}

export const EFFECT_LANES = ['payments', 'agency', 'courier', 'notifications'] as const;
export type EffectLane = (typeof EFFECT_LANES)[number];

/** The outside system an effect talks to; effects on one system keep their order. */
export function laneOf(effect: Effect): EffectLane {
  switch (effect.kind) {
    case 'capture_payment':
    case 'record_cash':
    case 'refund':
      return 'payments';
    case 'hand_off':
    case 'inform_agency':
      return 'agency';
    case 'dispatch_courier':
    case 'close_job':
    case 'cancel_jobs':
      return 'courier';
    case 'notify':
      return 'notifications';
  }
}

/** Whether carrying out the effect writes our read model (a local write since `read-model-writes-local`). */
export function writesReadModel(effect: Effect): boolean {
  return effect.kind === 'record_cash' || effect.kind === 'dispatch_courier' || effect.kind === 'close_job' || effect.kind === 'cancel_jobs';
}

/** Carries out one effect for the dossier as it is now; the outcome, if the lifecycle needs to hear it. */
export async function perform(effect: Effect, s: DossierState, writes: ReadModelWrites): Promise<SystemEvent | null> {
  switch (effect.kind) {
    case 'capture_payment': {
      const r = await external.capturePayment({ dossierCode: s.code, key: effect.key, amountVnd: effect.amountVnd, reference: effect.reference });
      return r.status === 'captured'
        ? { type: 'system.payment_captured', key: effect.key, amountVnd: r.amountVnd, reference: r.captureId }
        : { type: 'system.payment_declined', reason: r.reason };
    }
    case 'record_cash':
      await writes.recordCashPayment({ dossierCode: s.code, key: effect.key, amountVnd: effect.amountVnd, by: effect.by });
      return null;
    case 'refund':
      await external.refundPayment({ dossierCode: s.code, key: effect.key, amountVnd: effect.amountVnd, method: effect.method, reference: effect.reference });
      return null;
    case 'hand_off': {
      const r = await external.handOffToAgency({ dossierCode: s.code, agencyId: s.agencyId, mode: effect.mode, dossier: toView(s) });
      return { type: 'system.handed_off', channel: r.channel };
    }
    case 'inform_agency':
      await external.informAgency({ dossierCode: s.code, agencyId: s.agencyId, key: effect.key, about: effect.about });
      return null;
    case 'dispatch_courier': {
      const job = await writes.dispatchCourier({
        dossierCode: s.code,
        agencyId: s.agencyId,
        purpose: effect.purpose,
        attempt: effect.attempt,
        address: effect.address,
      });
      return { type: 'system.job_created', job };
    }
    case 'close_job':
      await writes.closeCourierJob({ jobId: effect.jobId, outcome: effect.outcome });
      return null;
    case 'cancel_jobs':
      await writes.cancelCourierJobs({ dossierCode: s.code, reason: effect.reason });
      return null;
    case 'notify':
      await notifications.notify({
        key: effect.key,
        dossierCode: s.code,
        audience: effect.audience,
        template: effect.template,
        data: effect.data ?? {},
        agencyId: s.agencyId,
        applicant: { phone: s.applicant.phone, email: s.applicant.email ?? null },
      });
      return effect.then ?? null;
  }
}
