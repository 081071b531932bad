/**
 * A `Db` whose collection calls are bounded by the bound current at the time
 * of the call (an activity attempt's, an HTTP request's): the remaining time
 * goes to the driver as `timeoutMS` (so the server gets `maxTimeMS` and the
 * wait for a pooled connection is bounded too), reads also get the abort
 * signal, and once the signal has aborted calls are refused without reaching
 * the server. Without a current bound the call is the plain driver's.
 */
import type { Collection, Db } from 'mongodb';

export interface CallBound {
  readonly signal: AbortSignal;
  /** Epoch milliseconds; Infinity for none. */
  readonly deadline: number;
  /** The error a refused call rejects with. */
  abandoned(): Error;
}

/** Where each collection method takes its options. */
const OPTIONS_INDEX: Record<string, number> = {
  insertOne: 1,
  insertMany: 1,
  bulkWrite: 1,
  updateOne: 2,
  updateMany: 2,
  replaceOne: 2,
  deleteOne: 1,
  deleteMany: 1,
  findOneAndUpdate: 2,
  findOneAndReplace: 2,
  findOneAndDelete: 1,
  findOne: 1,
  find: 1,
  countDocuments: 1,
  estimatedDocumentCount: 0,
  aggregate: 1,
  distinct: 2,
};
/** Methods that also accept an AbortSignal (the driver aborts reads only). */
const ABORTABLE = new Set(['findOne', 'find', 'countDocuments', 'aggregate', 'command']);

function boundOptions(method: string, options: unknown, bound: CallBound): Record<string, unknown> {
  const given = (options ?? {}) as Record<string, unknown>;
  const remaining = Math.max(1, Math.floor(bound.deadline - Date.now()));
  const timeoutMS = typeof given.timeoutMS === 'number' ? Math.min(given.timeoutMS, remaining) : remaining;
  return {
    ...given,
    ...(Number.isFinite(bound.deadline) ? { timeoutMS } : {}),
    ...(ABORTABLE.has(method) && !given.signal ? { signal: bound.signal } : {}),
  };
}

function boundCollection<T extends Collection>(collection: T, current: () => CallBound | undefined): T {
  return new Proxy(collection, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      const index = OPTIONS_INDEX[prop];
      if (index === undefined) return (value as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        const bound = current();
        if (bound) {
          if (bound.signal.aborted) {
            const err = bound.abandoned();
            // Cursors are built synchronously; the refusal surfaces when they are read.
            if (prop === 'find' || prop === 'aggregate') args[index] = { ...(args[index] as object), signal: bound.signal };
            else return Promise.reject(err);
          } else {
            args[index] = boundOptions(prop, args[index], bound);
          }
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export function boundedDb(db: Db, current: () => CallBound | undefined): Db {
  const collections = new Map<string, Collection>();
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'collection') {
        return (name: string, options?: Parameters<Db['collection']>[1]) => {
          if (options) return boundCollection(target.collection(name, options), current);
          let c = collections.get(name);
          if (!c) collections.set(name, (c = boundCollection(target.collection(name), current)));
          return c;
        };
      }
      if (prop === 'command') {
        return (command: Parameters<Db['command']>[0], options?: Parameters<Db['command']>[1]) => {
          const bound = current();
          if (!bound) return target.command(command, options);
          if (bound.signal.aborted) return Promise.reject(bound.abandoned());
          return target.command(command, boundOptions('command', options, bound) as Parameters<Db['command']>[1]);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
