/**
 * Request logs without secrets: bearer tokens and cookies, and query values
 * that are credentials (tracking's `phone` digits are the citizen's key).
 */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);
const SECRET_QUERY = /token|key|secret|password|auth|phone/i;
export const REDACTED = '[redacted]';

interface SerializedRequest {
  url?: string;
  headers?: Record<string, unknown>;
  query?: Record<string, unknown>;
  [k: string]: unknown;
}

export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const params = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_QUERY.test(name) ? `${name}=${REDACTED}` : pair;
    });
  return `${url.slice(0, at)}?${params.join('&')}`;
}

/** pino-http's `req` serializer, applied over its default one. */
export function redactRequest(req: SerializedRequest): SerializedRequest {
  const headers = req.headers && Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, SECRET_HEADERS.has(k.toLowerCase()) ? REDACTED : v]));
  const query = req.query && Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, SECRET_QUERY.test(k) ? REDACTED : v]));
  return { ...req, ...(req.url ? { url: redactUrl(req.url) } : {}), ...(headers ? { headers } : {}), ...(query ? { query } : {}) };
}
