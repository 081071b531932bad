import { ApplicationFailure } from '@temporalio/common';

export type Fetch = typeof fetch;

/**
 * POSTs JSON with an idempotency key. 5xx, 408, 429 and network errors are
 * thrown as retryable; other 4xx as non-retryable `type`.
 */
export async function postJson(
  fetchImpl: Fetch,
  url: string,
  body: unknown,
  opts: { idempotencyKey: string; timeoutMs?: number; headers?: Record<string, string>; nonRetryableType: string },
): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': opts.idempotencyKey, ...opts.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw ApplicationFailure.retryable(`POST ${url} failed: ${(err as Error).message}`, 'HttpUnavailable');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { raw: text.slice(0, 500) };
  }
  if (res.status >= 500 || res.status === 408 || res.status === 429) {
    throw ApplicationFailure.retryable(`POST ${url} answered ${res.status}`, 'HttpUnavailable');
  }
  if (res.status >= 400) {
    throw ApplicationFailure.nonRetryable(`POST ${url} answered ${res.status}: ${text.slice(0, 200)}`, opts.nonRetryableType, json);
  }
  return { status: res.status, json };
}
