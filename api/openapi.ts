/** OpenAPI 3.1, generated from the same zod schemas the routes validate with. */
import { z } from 'zod';
import { ROLES } from './auth';
import { agencySchema, calendarSchema, courierSchema, eventSchema, procedureSchema, submissionSchema, tariffSchema } from './schemas';

interface RouteDoc {
  method: 'get' | 'post' | 'put';
  path: string;
  summary: string;
  roles: string[] | 'public';
  body?: z.ZodType;
}

const all = [...ROLES];

export const ROUTES: RouteDoc[] = [
  { method: 'post', path: '/v1/dossiers', summary: 'Submit a dossier (starts its workflow): 201 new, 200 same payload again, 409 other payload', roles: ['portal', 'admin'], body: submissionSchema },
  { method: 'get', path: '/v1/dossiers', summary: 'Paged list of dossiers (status, agencyId, procedureCode, from, to, cursor, limit)', roles: ['manager', 'admin', 'agency'] },
  { method: 'get', path: '/v1/dossiers/{code}', summary: 'The dossier view (personal data masked by role)', roles: all },
  { method: 'post', path: '/v1/dossiers/{code}/events', summary: 'Report an event; 200 with the new view, 409 when it does not fit the status, 422 identity or cash refused', roles: ['portal', 'agency', 'courier', 'clerk'], body: eventSchema },
  { method: 'get', path: '/v1/track/{code}', summary: 'Public tracking by code and the last 4 digits of the phone (?phone=NNNN)', roles: 'public' },
  { method: 'get', path: '/v1/courier/jobs', summary: "The calling courier's open jobs", roles: ['courier'] },
  { method: 'get', path: '/v1/compliance/summary', summary: 'Deadline compliance by original due date, with the Decision 766 index (from, to, groupBy, stage, agencyId, procedureCode, format=json|csv|xlsx or Accept)', roles: ['manager', 'admin'] },
  { method: 'get', path: '/v1/compliance/overdue', summary: 'Open deadlines past due, oldest first (stage, agencyId, limit, format=json|csv|xlsx)', roles: ['manager', 'admin'] },
  { method: 'get', path: '/v1/compliance/at-risk', summary: 'Open deadlines due within withinHours (format=json|csv|xlsx)', roles: ['manager', 'admin'] },
  { method: 'get', path: '/v1/compliance/snapshots', summary: 'Daily compliance snapshots (from, to: inclusive local dates, at most 366 days): due that day and month to date, by agency and by stage', roles: ['manager', 'admin'] },
  { method: 'get', path: '/v1/procedures', summary: 'Procedure catalogue', roles: all },
  { method: 'get', path: '/v1/procedures/{id}', summary: 'One procedure', roles: all },
  { method: 'put', path: '/v1/procedures/{id}', summary: 'Create or replace a procedure', roles: ['admin'], body: procedureSchema },
  { method: 'get', path: '/v1/agencies', summary: 'Agencies', roles: all },
  { method: 'get', path: '/v1/agencies/{id}', summary: 'One agency', roles: all },
  { method: 'put', path: '/v1/agencies/{id}', summary: 'Create or replace an agency', roles: ['admin'], body: agencySchema },
  { method: 'get', path: '/v1/couriers', summary: 'Couriers', roles: ['manager', 'admin'] },
  { method: 'get', path: '/v1/couriers/{id}', summary: 'One courier', roles: ['manager', 'admin'] },
  { method: 'put', path: '/v1/couriers/{id}', summary: 'Create or replace a courier', roles: ['admin'], body: courierSchema },
  { method: 'get', path: '/v1/tariffs', summary: 'Postal charges by service and route class', roles: all },
  { method: 'put', path: '/v1/tariffs', summary: 'Replace the tariff', roles: ['admin'], body: tariffSchema },
  { method: 'get', path: '/v1/calendar/{year}', summary: 'Working calendar of a year', roles: all },
  { method: 'put', path: '/v1/calendar/{year}', summary: 'Replace a year of the working calendar (open deadlines are re-checked)', roles: ['admin'], body: calendarSchema },
  { method: 'get', path: '/healthz', summary: 'Liveness', roles: 'public' },
  { method: 'get', path: '/readyz', summary: 'Readiness: Temporal and MongoDB reachable', roles: 'public' },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics: HTTP requests by route and status, Temporal client calls by operation and outcome', roles: 'public' },
  { method: 'get', path: '/openapi.json', summary: 'This document', roles: 'public' },
  { method: 'get', path: '/docs', summary: 'API documentation page', roles: 'public' },
  { method: 'get', path: '/dashboard', summary: 'Manager dashboard (sign in with a token)', roles: 'public' },
];

const problem = {
  description: 'application/problem+json (RFC 9457)',
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
        },
      },
    },
  },
};

const bodySchema = (body: z.ZodType) => z.toJSONSchema(body, { io: 'input', unrepresentable: 'any' });

let document: Record<string, unknown> | undefined;
let page: string | undefined;

/** Built once: the routes and schemas are fixed for the life of the process. */
export function openApiDocument(): Record<string, unknown> {
  return (document ??= buildDocument());
}

export function docsPage(): string {
  return (page ??= buildDocsPage());
}

function buildDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      description: r.roles === 'public' ? 'Public.' : `Roles: ${r.roles.join(', ')}.`,
      ...(r.roles === 'public' ? { security: [] } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: bodySchema(r.body) } } } } : {}),
      responses: { '200': { description: 'OK' }, '4XX': problem, '503': problem },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Postal dossiers API', version: '1.0.0', description: 'Administrative dossiers through the public postal service (see README).' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

/** A self-contained page (no CDN): the endpoints with their roles, and the request schemas. */
function buildDocsPage(): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const rows = ROUTES.map(
    (r) =>
      `<tr><td><code>${r.method.toUpperCase()}</code></td><td><code>${esc(r.path)}</code></td><td>${r.roles === 'public' ? 'public' : esc(r.roles.join(', '))}</td><td>${esc(r.summary)}${
        r.body ? `<details><summary>body schema</summary><pre>${esc(JSON.stringify(bodySchema(r.body), null, 2))}</pre></details>` : ''
      }</td></tr>`,
  ).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Postal dossiers API</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:1100px}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:30rem}</style></head>
<body><h1>Postal dossiers API v1</h1><p>JSON over HTTP; errors are <code>application/problem+json</code>. Authenticate with <code>Authorization: Bearer &lt;JWT&gt;</code> (HS256; claims sub, role, agencyId, courierId, exp). Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>Roles</th><th>What it does</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`;
}
