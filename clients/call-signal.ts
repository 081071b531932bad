/**
 * One Temporal client call under a signal of its own that follows a longer-lived one.
 *
 * The SDK adds an 'abort' listener to the call context's signal for every RPC
 * and never removes it (@temporalio/client connection.js). A signal shared by
 * many calls, a request's deadline or an activity attempt's, so gathered one
 * listener per RPC ever made under it: MaxListenersExceededWarning past ten,
 * and every finished call kept reachable. Here the parent holds one listener
 * per call in flight, removed when the call ends; the SDK's go to the child
 * and are dropped with it.
 */
import type { Connection } from '@temporalio/client';

/** What of a Temporal client this needs (Client, or a test's stand-in). */
export interface AbortableClient {
  withAbortSignal<R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R>;
}

export async function withCallSignal<R>(client: AbortableClient, parent: AbortSignal | undefined, call: () => Promise<R>): Promise<R> {
  if (!parent) return call();
  const child = new AbortController();
  const follow = () => child.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener('abort', follow, { once: true });
  try {
    return await client.withAbortSignal(child.signal, call);
  } finally {
    parent.removeEventListener('abort', follow);
  }
}

/** The signal the client's calls would carry here (set by an enclosing `withAbortSignal`), if any. */
export function contextSignal(client: { connection: unknown }): AbortSignal | undefined {
  return (client.connection as Partial<Connection>).callContextStorage?.getStore()?.abortSignal;
}
