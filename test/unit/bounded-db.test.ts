/**
 * store/bounded-db.ts: a call made under a bound carries the remaining time
 * (and, for reads, the signal); once the bound's signal has aborted, calls are
 * refused without reaching the driver; without a bound the call is untouched.
 */
import type { Db } from 'mongodb';
import { boundedDb, type CallBound } from '../../store/bounded-db';

function recordingDb() {
  const calls: { method: string; args: unknown[] }[] = [];
  const collection = new Proxy(
    {},
    { get: (_t, method: string) => (...args: unknown[]) => (calls.push({ method, args }), Promise.resolve({ ok: 1 })) },
  );
  const db = { collection: () => collection, command: (...args: unknown[]) => (calls.push({ method: 'command', args }), Promise.resolve({ ok: 1 })) };
  return { db: db as unknown as Db, calls };
}

describe('boundedDb', () => {
  it('gives each call under a bound the remaining time, and reads the signal', async () => {
    const { db, calls } = recordingDb();
    const controller = new AbortController();
    const bound: CallBound = { signal: controller.signal, deadline: Date.now() + 2000, abandoned: () => new Error('gone') };
    const bounded = boundedDb(db, () => bound);
    await bounded.collection<{ _id: string; v?: number }>('x').replaceOne({ _id: 'a' }, { v: 1 }, { upsert: true });
    await bounded.collection<{ _id: string; v?: number }>('x').findOne({ _id: 'a' });
    await bounded.command({ ping: 1 });
    const [write, read, ping] = calls;
    expect(write!.args[2]).toMatchObject({ upsert: true, timeoutMS: expect.any(Number) });
    expect((write!.args[2] as { timeoutMS: number }).timeoutMS).toBeLessThanOrEqual(2000);
    expect((write!.args[2] as { signal?: unknown }).signal).toBeUndefined();
    expect(read!.args[1]).toMatchObject({ signal: controller.signal, timeoutMS: expect.any(Number) });
    expect(ping!.args[1]).toMatchObject({ signal: controller.signal });
  });

  it('refuses calls once the bound has aborted, without reaching the driver', async () => {
    const { db, calls } = recordingDb();
    const controller = new AbortController();
    controller.abort();
    const bounded = boundedDb(db, () => ({ signal: controller.signal, deadline: Date.now(), abandoned: () => new Error('attempt abandoned') }));
    await expect(bounded.collection<{ _id: string; v?: number }>('x').insertOne({ _id: 'b', v: 1 })).rejects.toThrow('attempt abandoned');
    await expect(bounded.command({ ping: 1 })).rejects.toThrow('attempt abandoned');
    expect(calls).toEqual([]);
  });

  it('leaves calls untouched without a bound', async () => {
    const { db, calls } = recordingDb();
    await boundedDb(db, () => undefined).collection<{ _id: string; v?: number }>('x').deleteOne({ _id: 'a' });
    expect(calls).toEqual([{ method: 'deleteOne', args: [{ _id: 'a' }] }]);
  });
});
