/**
 * A signal shared by many Temporal calls (a request's deadline, an activity
 * attempt's) keeps no listener past the calls: the SDK's per-RPC listener,
 * never removed, goes to each call's own signal (clients/call-signal.ts).
 */
import { getEventListeners } from 'node:events';
import { withCallSignal, type AbortableClient } from '../../clients/call-signal';

/** As the SDK does: every RPC made under the signal adds a listener that is never removed. */
function sdkLike(): AbortableClient & { cancelled: number } {
  const client = {
    cancelled: 0,
    async withAbortSignal<R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R> {
      signal.addEventListener('abort', () => (client.cancelled += 1));
      return fn();
    },
  };
  return client;
}

test('thirty calls under one signal leave none of their listeners on it (the SDK left thirty: MaxListenersExceededWarning)', async () => {
  const parent = new AbortController().signal;
  const client = sdkLike();
  for (let i = 0; i < 30; i++) await withCallSignal(client, parent, async () => i);
  expect(getEventListeners(parent, 'abort')).toHaveLength(0);
  // Without it, the shared signal keeps one listener per call.
  for (let i = 0; i < 30; i++) await client.withAbortSignal(parent, async () => i);
  expect(getEventListeners(parent, 'abort')).toHaveLength(30);
});

test('a call in flight is still cancelled when the shared signal aborts, and one already aborted cancels at once', async () => {
  const parent = new AbortController();
  const client = sdkLike();
  let release!: () => void;
  const running = withCallSignal(client, parent.signal, () => new Promise<void>((r) => (release = r)));
  expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
  parent.abort(new Error('deadline'));
  expect(client.cancelled).toBe(1);
  release();
  await running;
  expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);

  let seen: AbortSignal | undefined;
  await withCallSignal({ withAbortSignal: (s, fn) => ((seen = s), fn()) }, parent.signal, async () => undefined);
  expect(seen?.aborted).toBe(true);
  expect((seen?.reason as Error).message).toBe('deadline');
});
