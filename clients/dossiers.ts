/**
 * The one client of the workflows, shared by the API, the reconciliation, the
 * worker's startup and the tests: workflows are started by their function
 * (the type of their input and result follows), and every update, query and
 * signal is the definition in workflows/messages.ts.
 */
import {
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WithStartWorkflowOperation,
  type Client,
  type WorkflowStartOptions,
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { DossierView } from '../domain/dossier';
import { contextSignal, withCallSignal } from './call-signal';
import type { EventCommand, Refusal } from '../domain/events';
import { complianceCountsWorkflow, dossierWorkflow } from '../workflows';
import {
  applyEventUpdate,
  calendarChangedSignal,
  dossierViewQuery,
  dossierWorkflowId,
  registeredUpdate,
  REFUSAL_FAILURE_TYPE,
  searchAttributes,
  type DossierWorkflowInput,
} from '../workflows/messages';

/** What became of a submission's start. */
export type SubmitOutcome =
  /** Started now (or by an earlier try of this call that reached Temporal). */
  | 'started'
  /** The same payload was submitted before: its workflow stands. */
  | 'existing'
  /** Another payload was submitted before under the same code. */
  | 'conflict'
  /** Temporal did not take it: nothing was started. */
  | 'not-taken'
  /** Temporal did not answer: whether it was taken is not known. */
  | 'unknown';

/** An event's outcome: applied, refused by the lifecycle (the refusal says why), or the workflow is closed (ended or unknown). */
export type EventOutcome = { outcome: 'applied'; view: DossierView } | { outcome: 'refused'; refusal: Refusal } | { outcome: 'closed' };

export interface RegistrationWait {
  /** How long to wait for the registration; unbounded when absent. */
  waitMs?: number;
  /** Ends the wait early (a request's deadline). */
  signal?: AbortSignal;
  /** Consulted when the wait fails: a workflow that has finished answers no update, its projection still does. */
  readModel?: (code: string) => Promise<DossierView | null>;
}

export class DossierClient {
  constructor(
    readonly temporal: Client,
    /** The dossier workflows' task queue. */
    readonly taskQueue: string,
  ) {}

  /** Each call under its own signal following the caller's (a request's deadline, an attempt's): see call-signal.ts. */
  private scoped<R>(call: () => Promise<R>): Promise<R> {
    return withCallSignal(this.temporal, contextSignal(this.temporal), call);
  }

  handle(code: string): WorkflowHandle<typeof dossierWorkflow> {
    return this.temporal.workflow.getHandle<typeof dossierWorkflow>(dossierWorkflowId(code));
  }

  /**
   * Starts the dossier's workflow once per code (`dossier-<code>`, never reused) with the
   * registration update, in one call to Temporal (update-with-start): its first workflow task
   * answers. With `payloadHash`, a second submission of the same payload is told from another
   * payload under the same code, and a start that failed on its way is looked up, since it may
   * still have reached Temporal. The view is `registeredView`'s: null when the dossier is not
   * registered within the wait (started, but no worker took it) or the submission was not started.
   */
  submitAndRegister(
    input: DossierWorkflowInput,
    opts: { payloadHash?: string } = {},
    wait: RegistrationWait = {},
  ): Promise<{ outcome: SubmitOutcome; view: DossierView | null }> {
    return this.scoped(() => this.startRegistered(input, opts, wait));
  }

  private async startRegistered(
    input: DossierWorkflowInput,
    opts: { payloadHash?: string },
    wait: RegistrationWait,
  ): Promise<{ outcome: SubmitOutcome; view: DossierView | null }> {
    const code = input.submission.code;
    const handle = this.handle(code);
    // FAIL: a running workflow under the code is an earlier submission, told apart below by its payload hash.
    const operation = new WithStartWorkflowOperation(dossierWorkflow, { ...this.startOptions(input, opts), workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL });
    const since = Date.now();
    try {
      const view = await this.withinWait(wait, () => this.temporal.workflow.executeUpdateWithStart(registeredUpdate, { startWorkflowOperation: operation }));
      return { outcome: 'started', view };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const outcome = await this.earlierSubmission(handle, opts);
        if (outcome === 'conflict') return { outcome, view: null };
        const left = wait.waitMs === undefined ? undefined : Math.max(0, wait.waitMs - (Date.now() - since));
        return { outcome, view: await this.registeredView(code, { ...wait, waitMs: left }) };
      }
      // The start's answer came back (the update's did not, or failed): started, the view as `registeredView` gives it.
      const started = await operation.workflowHandle().then(
        () => true,
        () => false,
      );
      if (!started) {
        if (opts.payloadHash === undefined) throw err;
        const outcome = await this.lookUpStart(handle, opts);
        if (outcome !== 'started') return { outcome, view: null };
      }
      const known = await fromReadModel(code, wait);
      if (known) return { outcome: 'started', view: known };
      if (started && err instanceof WorkflowUpdateFailedError) throw err;
      return { outcome: 'started', view: null };
    }
  }

  /** One start's options: the id is never reused; the payload's hash tells a repeat from another dossier. */
  private startOptions(input: DossierWorkflowInput, opts: { payloadHash?: string }): WorkflowStartOptions<typeof dossierWorkflow> {
    const { submission } = input;
    return {
      taskQueue: this.taskQueue,
      workflowId: dossierWorkflowId(submission.code),
      args: [input],
      ...(opts.payloadHash !== undefined ? { memo: { payloadHash: opts.payloadHash } } : {}),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: searchAttributes.status, value: 'submitted' },
        { key: searchAttributes.agencyId, value: submission.agencyId },
        { key: searchAttributes.procedureCode, value: submission.procedureCode },
      ],
    };
  }

  /** A workflow already under the code: the same payload submitted before, or another one. */
  private async earlierSubmission(handle: WorkflowHandle<typeof dossierWorkflow>, opts: { payloadHash?: string }): Promise<SubmitOutcome> {
    return sameSubmission(opts, (await handle.describe()).memo) ? 'existing' : 'conflict';
  }

  /** A start that failed on its way may still have reached Temporal: the workflow, if there, says. */
  private lookUpStart(handle: WorkflowHandle<typeof dossierWorkflow>, opts: { payloadHash?: string }): Promise<SubmitOutcome> {
    return handle.describe().then(
      (d): SubmitOutcome => (sameSubmission(opts, d.memo) ? 'started' : 'unknown'),
      (e: unknown): SubmitOutcome => (e instanceof WorkflowNotFoundError ? 'not-taken' : 'unknown'),
    );
  }

  /**
   * The dossier once registered: from the workflow, or from `readModel` if
   * the wait failed (the workflow may have finished). Null when it is not
   * registered within the wait or Temporal did not answer; throws the
   * update's failure when the workflow refused to register.
   */
  async registeredView(code: string, wait: RegistrationWait = {}): Promise<DossierView | null> {
    try {
      return await this.withinWait(wait, () => this.handle(code).executeUpdate(registeredUpdate));
    } catch (err) {
      const known = await fromReadModel(code, wait);
      if (known) return known;
      if (err instanceof WorkflowUpdateFailedError) throw err;
      return null;
    }
  }

  /**
   * A registration update bounded by the wait: the call ends with it (or the caller's signal);
   * left running, it would retry on a closed connection.
   */
  private async withinWait<R>(wait: RegistrationWait, call: () => Promise<R>): Promise<R> {
    const abandon = new AbortController();
    const signal = wait.signal ? AbortSignal.any([abandon.signal, wait.signal]) : abandon.signal;
    try {
      return await bounded(this.temporal.withAbortSignal(signal, call), wait.waitMs);
    } finally {
      abandon.abort();
    }
  }

  /** Applies a reported event; `updateId` (the client's event id) makes a repeat return the first answer. */
  async applyEvent(code: string, command: EventCommand, updateId?: string): Promise<EventOutcome> {
    try {
      const view = await this.scoped(() => this.handle(code).executeUpdate(applyEventUpdate, { args: [command], ...(updateId ? { updateId } : {}) }));
      return { outcome: 'applied', view };
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) return { outcome: 'refused', refusal };
      if (err instanceof WorkflowNotFoundError || isCompletedError(err)) return { outcome: 'closed' };
      throw err;
    }
  }

  /**
   * The workflow's current view, the source of truth; null when there is no such workflow.
   * Each attempt has a deadline of its own and one that times out is asked again: a worker can
   * drop a query that waits behind a workflow task (sdk-core does when it evicts that run from
   * its cache), and the call then waits for its deadline, or for ever without one.
   */
  async view(code: string): Promise<DossierView | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.scoped(() => this.temporal.withDeadline(Date.now() + QUERY_ATTEMPT_MS, () => this.handle(code).query(dossierViewQuery)));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        if (attempt < QUERY_ATTEMPTS && isDeadlineExceeded(err) && !contextSignal(this.temporal)?.aborted) continue;
        throw err;
      }
    }
  }

  /** Tells one dossier that the working calendar changed. */
  async calendarChanged(code: string): Promise<void> {
    await this.handle(code).signal(calendarChangedSignal);
  }

  /**
   * Tells every running dossier on the task queue that the working calendar
   * changed: one batch signal that the Temporal server carries out and
   * retries by itself, however many dossiers are open. Returns the job's id
   * and how many dossiers were running when it was asked.
   */
  async announceCalendarChange(o: { jobId: string; reason: string; identity: string }): Promise<{ batchJobId: string; runningDossiers: number }> {
    const { workflowService, options } = this.temporal;
    const visibilityQuery = `WorkflowType = '${dossierWorkflow.name}' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.taskQueue.replace(/'/g, "\\'")}'`;
    const { count } = await workflowService.countWorkflowExecutions({ namespace: options.namespace, query: visibilityQuery });
    await workflowService.startBatchOperation({
      namespace: options.namespace,
      jobId: o.jobId,
      reason: o.reason,
      visibilityQuery,
      signalOperation: { signal: calendarChangedSignal.name, identity: o.identity },
    });
    return { batchJobId: o.jobId, runningDossiers: Number(String(count ?? 0)) };
  }
}

export interface CountsAggregatorSettings {
  workflowId: string;
  taskQueue: string;
  passIntervalMs: number;
  runForMinutes?: number;
}

/**
 * Starts the compliance counts' aggregator unless it is already running (one
 * workflow under a fixed id: a running one is kept as it is, a terminated or
 * failed one is started again); returns the running chain's first run id.
 */
export async function ensureCountsAggregator(client: Client, s: CountsAggregatorSettings): Promise<string> {
  const handle = await client.workflow.start(complianceCountsWorkflow, {
    workflowId: s.workflowId,
    taskQueue: s.taskQueue,
    args: [{ passIntervalMs: s.passIntervalMs, ...(s.runForMinutes ? { runForMinutes: s.runForMinutes } : {}) }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
  return handle.firstExecutionRunId;
}

/** The refusal carried by a refused event's update failure (workflows/messages.ts REFUSAL_FAILURE_TYPE), or null. */
export function refusalOf(err: unknown): Refusal | null {
  if (!(err instanceof WorkflowUpdateFailedError)) return null;
  const cause = err.cause as { type?: string; details?: unknown[] } | undefined;
  if (cause?.type !== REFUSAL_FAILURE_TYPE) return null;
  return (cause.details?.[0] as Refusal) ?? null;
}

function isCompletedError(err: unknown): boolean {
  return /already completed|workflow execution already completed/i.test((err as Error)?.message ?? '');
}

class TimeoutError extends Error {}

/** A view query's attempts (see `view`): a query answers in milliseconds, a replay of a dossier's history in well under a second. */
const QUERY_ATTEMPT_MS = 3_000;
const QUERY_ATTEMPTS = 3;

/** gRPC's DEADLINE_EXCEEDED status code. */
const GRPC_DEADLINE_EXCEEDED = 4;

/** The call's own gRPC deadline passed, as the client reports it (a ServiceError caused by the gRPC error). */
function isDeadlineExceeded(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return err instanceof ServiceError && cause?.code === GRPC_DEADLINE_EXCEEDED;
}

function sameSubmission(opts: { payloadHash?: string }, memo: Record<string, unknown> | undefined): boolean {
  return opts.payloadHash !== undefined && memo?.payloadHash === opts.payloadHash;
}

/** The dossier as the read model has it, when the wait's caller gave one; null on any failure. */
function fromReadModel(code: string, wait: RegistrationWait): Promise<DossierView | null> {
  return wait.readModel ? wait.readModel(code).catch(() => null) : Promise.resolve(null);
}

/** The promise, failing with a TimeoutError after `ms` when `ms` is finite. */
function bounded<T>(p: Promise<T>, ms: number | undefined): Promise<T> {
  return ms !== undefined && Number.isFinite(ms) ? withTimeout(p, ms) : p;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
