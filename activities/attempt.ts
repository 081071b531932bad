/**
 * An activity attempt that stops when it is abandoned. Without a heartbeat
 * the worker never learns that the server timed an attempt out, so an attempt
 * past its start-to-close kept writing to the read model while its retries
 * ran: abandoned attempts piled up on FerretDB's one writer (the
 * sustained-load stall). Here each attempt gets a signal that aborts shortly
 * before its start-to-close ends, or when Temporal cancels it (worker
 * shutdown, a heartbeat's cancellation); every read-model call made during the
 * attempt is bounded by that time and refused once it has passed, and the
 * attempt itself fails at that moment so its execution slot is freed.
 */
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Db } from 'mongodb';
import { withCallSignal } from '../clients/call-signal';
import { boundedDb } from '../store/bounded-db';

/** Kept back from start-to-close so the attempt gives up before the server does. */
export const ATTEMPT_MARGIN_MS = 500;

export interface Attempt {
  /** Aborts at the attempt's own deadline or on Temporal's cancellation. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds; Infinity when the attempt has no start-to-close. */
  readonly deadline: number;
}

const attempts = new WeakMap<Context, Attempt>();

function attemptFor(ctx: Context, startedAt: number): Attempt {
  let attempt = attempts.get(ctx);
  if (attempt) return attempt;
  const timeout = ctx.info.startToCloseTimeoutMs;
  const deadline = timeout > 0 ? startedAt + Math.max(timeout - ATTEMPT_MARGIN_MS, timeout / 2) : Infinity;
  const signals = [ctx.cancellationSignal];
  if (Number.isFinite(deadline)) signals.push(AbortSignal.timeout(Math.max(0, deadline - Date.now())));
  attempt = { signal: AbortSignal.any(signals), deadline };
  // Shared by the attempt's calls, each listening while in flight (as a request's, api/deadline.ts): its fan-out, not a leak.
  setMaxListeners(0, attempt.signal);
  attempts.set(ctx, attempt);
  return attempt;
}

/** The running activity's attempt, or undefined outside an activity (scripts, the API, tests). */
export function currentAttempt(): Attempt | undefined {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return undefined;
  }
  return attemptFor(ctx, Date.now());
}

export class AttemptAbandoned extends Error {
  override name = 'AttemptAbandoned';
}

function abandonedError(attempt: Attempt): Error {
  const reason: unknown = attempt.signal.reason;
  // A timeout is ours (retryable); a cancellation is Temporal's and keeps its own type.
  if (reason instanceof Error && reason.name !== 'TimeoutError') return reason;
  return new AttemptAbandoned('the activity attempt reached its deadline');
}

/**
 * The worker's activity interceptor: starts the attempt's clock when the
 * attempt starts, and fails the attempt at its deadline even if its code is
 * stuck, so the slot goes to the next task (its read-model calls are refused
 * from then on).
 */
export const attemptInterceptors: ActivityInterceptorsFactory = (ctx) => {
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      const attempt = attemptFor(ctx, Date.now());
      if (!Number.isFinite(attempt.deadline)) return next(input);
      let onAbort!: () => void;
      const abandoned = new Promise<never>((_, reject) => {
        onAbort = () => {
          const err = abandonedError(attempt);
          reject(err instanceof AttemptAbandoned ? ApplicationFailure.retryable(err.message, err.name) : err);
        };
        if (attempt.signal.aborted) onAbort();
        else attempt.signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([next(input), abandoned]);
      } finally {
        attempt.signal.removeEventListener('abort', onAbort);
      }
    },
  };
  return { inbound };
};

/**
 * The read model as activities see it: every collection call made inside an
 * activity attempt is bounded by the attempt's deadline and refused once the
 * attempt is abandoned (store/bounded-db.ts). Outside an activity it behaves
 * as the plain `Db`.
 */
export function attemptBoundDb(db: Db): Db {
  return boundedDb(db, () => {
    const attempt = currentAttempt();
    return attempt && { ...attempt, abandoned: () => abandonedError(attempt) };
  });
}

/**
 * A Temporal client call that ends with the running attempt, as its read-model
 * calls do: an abandoned attempt's query or start stops (and stops retrying)
 * instead of running on after the worker has let the attempt go.
 */
export function withinAttempt<R>(client: Client, call: () => Promise<R>): Promise<R> {
  const attempt = currentAttempt();
  // A signal per call: the attempt's would keep a listener for every RPC made under it (clients/call-signal.ts).
  return withCallSignal(client, attempt?.signal, call);
}
