import type { Collection, Db } from 'mongodb';

export interface WriteFault {
  /** Collections the fault watches, by name. */
  collection: RegExp;
  method: 'insertOne' | 'replaceOne' | 'deleteOne' | 'deleteMany';
  /** The call that fails: the nth of `method` on a watched collection after the fault is set. */
  nth: number;
  message: string;
}

/**
 * The database as seen by code under test, with one write made to fail at a
 * chosen point, as a process that died there would leave the data: what came
 * before is written, nothing after is. Used to crash the counts' aggregator
 * in the middle of a pass without a hook in its code.
 */
export function faultyDb(real: Db): { db: Db; failAt(fault: WriteFault): void } {
  let fault: (WriteFault & { seen: number }) | null = null;
  const watch = <T extends object>(c: Collection<T>, name: string): Collection<T> =>
    new Proxy(c, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (fault && prop === fault.method && fault.collection.test(name)) {
          return (...args: unknown[]) => {
            if (fault && ++fault.seen === fault.nth) {
              const err = new Error(fault.message);
              fault = null;
              return Promise.reject(err);
            }
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  const db = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'collection') return <T extends object>(name: string, ...rest: unknown[]) => watch((target.collection as (n: string, ...r: unknown[]) => Collection<T>)(name, ...rest), name);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db, failAt: (f) => void (fault = { ...f, seen: 0 }) };
}

/**
 * The crash the counts' tests and benchmark inject into an aggregator's pass:
 * after `days` days are written and the next day's members, before its counts
 * (the day's counts are its `counts_days_*` replace) and before any change
 * record is deleted.
 */
export const crashAfterDays = (days: number): WriteFault => ({
  collection: /^counts_days_/,
  method: 'replaceOne',
  nth: days + 1,
  message: `injected fault: crash after ${days} days and the next day's members, before its counts`,
});
