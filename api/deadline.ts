/**
 * Every request has a deadline: reads and `/readyz` a few seconds, writes
 * longer (they wait for the workflow). At the deadline a request not yet
 * answered gets a 503 with `Retry-After`, and the calls it made are ended:
 * Temporal calls carry the request's abort signal (the client's own
 * AsyncLocalStorage), read-model calls the remaining time (store/bounded-db.ts).
 * The calls end a little before the answer is due, so a route can still say
 * what happened itself (a submission started but not registered is 202).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';
import type { Client } from '@temporalio/client';
import type { NextFunction, Request, Response } from 'express';
import type { Db } from 'mongodb';
import { boundedDb, type CallBound } from '../store/bounded-db';
import { Problem, sendProblem } from './problem';

export interface DeadlineSettings {
  /** GET/HEAD and `/readyz` (API_READ_DEADLINE_MS). */
  readMs: number;
  /** Everything else (API_WRITE_DEADLINE_MS). */
  writeMs: number;
}

export const DEFAULT_DEADLINES: DeadlineSettings = { readMs: 4000, writeMs: 15000 };

/** Calls end this long before the answer is due, leaving the route time to answer. */
const CALLS_END_EARLY_MS = 500;

export class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded';
}

interface RequestDeadline extends CallBound {
  /** When the answer is due (epoch ms). */
  readonly answerBy: number;
}

const storage = new AsyncLocalStorage<RequestDeadline>();

/** The current request's deadline, or undefined outside a request. */
export function requestDeadline(): RequestDeadline | undefined {
  return storage.getStore();
}

/** Milliseconds left before the current request's calls end (Infinity outside a request). */
export function remainingMs(): number {
  const d = storage.getStore();
  return d ? Math.max(0, d.deadline - Date.now()) : Infinity;
}

/** The read model as routes see it: each call bounded by its request's deadline. */
export function requestBoundDb(db: Db): Db {
  return boundedDb(db, () => storage.getStore());
}

export function deadlineProblem(): Problem {
  return Problem.unavailable('A dependency (Temporal or MongoDB) did not answer in time; retry later (the same request is safe to send again)');
}

/**
 * `start` sets the request's deadline (first, before anything that may wait);
 * `enter` runs the rest of the chain inside it again, for use after a
 * middleware that loses the async context (the body parser resumes from the
 * socket's events).
 */
export function deadlines(temporal: Client, settings: DeadlineSettings = DEFAULT_DEADLINES) {
  const run = (deadline: RequestDeadline, next: NextFunction) =>
    storage.run(deadline, () => {
      // The Temporal client keeps its call context in its own AsyncLocalStorage: every call made
      // while this request is handled inherits the signal.
      void temporal.withAbortSignal(deadline.signal, () => {
        next();
        return Promise.resolve();
      });
    });

  const start = (req: Request, res: Response, next: NextFunction): void => {
    const ms = req.method === 'GET' || req.method === 'HEAD' || req.path === '/readyz' ? settings.readMs : settings.writeMs;
    const answerBy = Date.now() + ms;
    const controller = new AbortController();
    // Shared by every call of the request, each listening while in flight (the read model's driver removes its
    // listeners when a call ends; Temporal calls listen through their own signal, clients/call-signal.ts): the
    // count is the route's fan-out (a compliance summary reads each month's and day's counts at once), not a leak.
    setMaxListeners(0, controller.signal);
    const reached = () => new DeadlineExceeded(`deadline of ${ms} ms reached`);
    const callsEnd = setTimeout(() => controller.abort(reached()), Math.max(0, ms - CALLS_END_EARLY_MS));
    const answer = setTimeout(() => {
      if (!controller.signal.aborted) controller.abort(reached());
      if (!res.headersSent) {
        req.log?.warn({ deadlineMs: ms }, 'request deadline reached');
        // A route may have said what a late answer means for it (an event may still apply).
        sendProblem(res, (res.locals.deadlineProblem as Problem | undefined) ?? deadlineProblem());
      }
    }, ms);
    const done = () => {
      clearTimeout(callsEnd);
      clearTimeout(answer);
    };
    res.once('finish', done);
    res.once('close', done);
    const deadline: RequestDeadline = {
      signal: controller.signal,
      deadline: answerBy - CALLS_END_EARLY_MS,
      answerBy,
      abandoned: () => (controller.signal.reason instanceof Error ? controller.signal.reason : reached()),
    };
    res.locals.deadline = deadline;
    run(deadline, next);
  };

  const enter = (_req: Request, res: Response, next: NextFunction): void => {
    const deadline = res.locals.deadline as RequestDeadline | undefined;
    if (deadline) run(deadline, next);
    else next();
  };

  return { start, enter };
}
