/**
 * What the API serves, one entry an operation: path, roles, body and query
 * schemas (the ones the routes validate with), answers, and the rules zod
 * enforces across fields, said in words. The document (./document.ts), the
 * docs page and the 405 table (api/methods.ts) are built from it.
 */
import { z } from 'zod';
import { ROLES } from '../auth';
import * as R from '../response-schemas';
import { atRiskQuery, MAX_AT_RISK_HOURS, MAX_LIST_LIMIT, MAX_SUMMARY_RANGE_DAYS, overdueQuery, summaryQuery } from '../routes/compliance';
import { MAX_SNAPSHOT_RANGE_DAYS, snapshotsQuery } from '../routes/compliance-snapshots';
import { listQuerySchema } from '../routes/dossiers';
import { trackQuery } from '../routes/track';
import { agencySchema, calendarSchema, courierSchema, eventSchema, procedureSchema, submissionSchema, tariffSchema } from '../schemas';

export type Media = 'json' | 'csv' | 'xlsx' | 'html' | 'text';

export interface RouteDoc {
  method: 'get' | 'post' | 'put';
  path: string;
  summary: string;
  roles: string[] | 'public';
  operationId: string;
  tag: string;
  body?: z.ZodType;
  /** The query schema the route parses with. */
  query?: z.ZodType;
  /** Success statuses → what they carry. */
  ok: Record<number, { description: string; schema?: z.ZodType; media?: Media[] }>;
  /** Error statuses beyond those every route of its kind has (401/403 for protected routes, 503). */
  errors: number[];
  /** What a 503 means for this operation, when not 'nothing was changed'. */
  unavailable?: string;
  /** Rules zod enforces across fields, said in words. */
  rules?: string[];
  /** A body the operation accepts on the seeded reference data. */
  example?: unknown;
  /** Operations that take the answer's `code` as their path parameter (OpenAPI links, for clients and stateful testing). */
  linksByCode?: string[];
}

/** POST /v1/dossiers' 202: started, registration pending. */
const registrationPending = z.object({ code: z.string(), status: z.literal('registration_pending'), detail: z.string() });

const all = [...ROLES];
const listLimit = `limit: 1 to ${MAX_LIST_LIMIT}, default 100.`;
const BODY = [400, 413, 415];

export const ROUTES: RouteDoc[] = [
  {
    method: 'post', path: '/v1/dossiers', operationId: 'submitDossier', tag: 'Dossiers', roles: ['portal', 'admin'], body: submissionSchema,
    summary: 'Submit a dossier (starts its workflow): 201 new, 200 same payload again, 409 other payload',
    ok: {
      201: { description: 'Created: the registered dossier', schema: R.dossierViewResponse },
      200: { description: 'The same code and payload again: the dossier as it stands', schema: R.dossierViewResponse },
      202: { description: 'Accepted, not registered yet (no worker took it in time): Location names the dossier; the same request again returns it once registered', schema: registrationPending },
    },
    errors: [...BODY, 409],
    example: {
      code: 'H40.22-220118-0001',
      procedureCode: '1.001234',
      agencyId: 'HL-TNMT',
      applicant: { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', phone: '0912345678' },
      services: { collect: true, deliver: true },
      pickupAddress: { line: 'Số 5, khu 3', ward: 'Hồng Gai', district: 'Hạ Long', province: 'Quảng Ninh' },
      delivery: { method: 'home', address: { line: 'Số 5, khu 3', ward: 'Hồng Gai', district: 'Hạ Long', province: 'Quảng Ninh' } },
      payment: { method: 'cash' },
    },
    linksByCode: ['getDossier', 'reportEvent', 'trackDossier'],
    rules: [
      'at least one of services.collect and services.deliver is true',
      'pickupAddress is required when services.collect is true, and only then',
      'delivery is required when services.deliver is true, and only then',
      'submittedAt is not in the future (5 minutes of clock skew allowed), and a past year needs a working calendar on file',
      'procedureCode and agencyId name a known procedure and agency (400 naming the field otherwise)',
    ],
  },
  {
    method: 'get', path: '/v1/dossiers', operationId: 'listDossiers', tag: 'Dossiers', roles: ['manager', 'admin', 'agency'], query: listQuerySchema,
    summary: 'Paged list of dossiers, newest submission first (an agency sees its own only)',
    ok: { 200: { description: 'A page; follow nextCursor for the next', schema: R.dossierPageResponse } },
    errors: [400],
    rules: ['to is not before from (inclusive local dates of submission)', 'unknown query parameters are refused', 'limit: 1 to 100, default 20.'],
  },
  {
    method: 'get', path: '/v1/dossiers/{code}', operationId: 'getDossier', tag: 'Dossiers', roles: all,
    summary: 'The dossier view (personal data masked by role)',
    ok: { 200: { description: 'The dossier', schema: R.dossierViewResponse } },
    errors: [404],
    rules: ["another agency's dossier, or a courier's dossier it has no job for, answers 404"],
  },
  {
    method: 'post', path: '/v1/dossiers/{code}/events', operationId: 'reportEvent', tag: 'Dossiers', roles: ['portal', 'agency', 'courier', 'clerk'], body: eventSchema,
    summary: 'Report an event; 200 with the new view, 409 when it does not fit the status, 422 identity or cash refused',
    ok: { 200: { description: 'The dossier after the event (the first answer again for a repeated eventId)', schema: R.dossierViewResponse } },
    errors: [...BODY, 404, 409, 422],
    unavailable:
      'Not confirmed in time: the event may still be applied. With an eventId the same request again is safe; without one (type /problems/event-outcome-unknown) read the dossier before reporting it again',
    example: { type: 'citizen.withdrawn', reason: 'Công dân đổi ý' },
    linksByCode: ['getDossier'],
    rules: [
      'each event type is reported by one role (403 otherwise)',
      'agency.completed: reason is required when outcome is rejected',
      'courier.delivery_attempted: recipient is required when delivered, reason when failed',
      'a proxy recipient needs authorizationRef; a self recipient the applicant idNumber (422)',
      "occurredAt is not more than 5 minutes ahead and not before the dossier's previous event",
      'agency.apologized: newDueDate after the current due, within the allowed horizon, once only (409 the second time)',
    ],
  },
  {
    method: 'get', path: '/v1/track/{code}', operationId: 'trackDossier', tag: 'Public', roles: 'public', query: trackQuery,
    summary: 'Public tracking by code and the last 4 digits of the phone',
    ok: { 200: { description: 'Status without personal data', schema: R.trackingResponse } },
    errors: [400, 404, 429],
    rules: ['an unknown code and a wrong phone both answer 404', 'rate limited per client IP (429 with Retry-After)'],
  },
  {
    method: 'get', path: '/v1/courier/jobs', operationId: 'listCourierJobs', tag: 'Couriers', roles: ['courier'],
    summary: "The calling courier's open jobs",
    ok: { 200: { description: 'Open jobs, oldest first', schema: R.courierJobsResponse } },
    errors: [],
  },
  {
    method: 'get', path: '/v1/compliance/summary', operationId: 'complianceSummary', tag: 'Compliance', roles: ['manager', 'admin'], query: summaryQuery,
    summary: 'Deadline compliance by original due date, with the Decision 766 index (format=json|csv|xlsx or Accept)',
    ok: { 200: { description: 'The summary; CSV or a spreadsheet when asked', schema: R.complianceSummaryResponse, media: ['json', 'csv', 'xlsx'] } },
    errors: [400],
    rules: ['to is not before from', `the window from..to is at most ${MAX_SUMMARY_RANGE_DAYS} days`, 'unknown query parameters are refused'],
  },
  {
    method: 'get', path: '/v1/compliance/overdue', operationId: 'overdueDeadlines', tag: 'Compliance', roles: ['manager', 'admin'], query: overdueQuery,
    summary: 'Open deadlines past due, oldest first (format=json|csv|xlsx or Accept)',
    ok: { 200: { description: 'Overdue deadlines', schema: R.overdueResponse, media: ['json', 'csv', 'xlsx'] } },
    errors: [400],
    rules: [listLimit, 'unknown query parameters are refused'],
  },
  {
    method: 'get', path: '/v1/compliance/at-risk', operationId: 'atRiskDeadlines', tag: 'Compliance', roles: ['manager', 'admin'], query: atRiskQuery,
    summary: 'Open deadlines due within withinHours (format=json|csv|xlsx or Accept)',
    ok: { 200: { description: 'Deadlines due soon, soonest first', schema: R.atRiskResponse, media: ['json', 'csv', 'xlsx'] } },
    errors: [400],
    rules: [`withinHours: 1 to ${MAX_AT_RISK_HOURS}, default 24.`, listLimit, 'unknown query parameters are refused'],
  },
  {
    method: 'get', path: '/v1/compliance/snapshots', operationId: 'complianceSnapshots', tag: 'Compliance', roles: ['manager', 'admin'], query: snapshotsQuery,
    summary: 'Daily compliance snapshots: due that day and month to date, by agency and by stage',
    ok: { 200: { description: 'Snapshots in the window, and the past days that have none', schema: R.snapshotsResponse } },
    errors: [400],
    rules: ['to is not before from', `the window from..to is at most ${MAX_SNAPSHOT_RANGE_DAYS} days`, 'unknown query parameters are refused'],
  },
  ...catalogueRoutes('procedures', 'Procedure', 'procedure', 'code', all, procedureSchema, R.procedureResponse, R.procedureListResponse),
  ...catalogueRoutes('agencies', 'Agency', 'agency', 'id', all, agencySchema, R.agencyResponse, R.agencyListResponse),
  ...catalogueRoutes('couriers', 'Courier', 'courier', 'id', ['manager', 'admin'], courierSchema, R.courierResponse, R.courierListResponse),
  {
    method: 'get', path: '/v1/tariffs', operationId: 'getTariff', tag: 'Reference data', roles: all,
    summary: 'Postal charges by service and route class',
    ok: { 200: { description: 'The tariff', schema: R.tariffResponse } },
    errors: [404],
  },
  {
    method: 'put', path: '/v1/tariffs', operationId: 'putTariff', tag: 'Reference data', roles: ['admin'], body: tariffSchema,
    summary: 'Replace the tariff',
    ok: { 200: { description: 'The tariff as stored', schema: R.tariffResponse } },
    errors: BODY,
  },
  {
    method: 'get', path: '/v1/calendar/{year}', operationId: 'getCalendar', tag: 'Reference data', roles: all,
    summary: 'Working calendar of a year',
    ok: { 200: { description: 'The year', schema: R.calendarResponse } },
    errors: [404],
  },
  {
    method: 'put', path: '/v1/calendar/{year}', operationId: 'putCalendar', tag: 'Reference data', roles: ['admin'], body: calendarSchema,
    summary: 'Create or replace a year of the working calendar (open deadlines are re-checked)',
    ok: { 201: { description: 'Created', schema: R.calendarWrittenResponse }, 200: { description: 'Replaced', schema: R.calendarWrittenResponse } },
    errors: [...BODY, 404],
    rules: ['year in the body, when present, equals the path year', 'holidays and workingDays are dates of that year: holidays on working days, workingDays on weekends'],
  },
  { method: 'get', path: '/healthz', operationId: 'liveness', tag: 'Operations', roles: 'public', summary: 'Liveness', ok: { 200: { description: 'Alive', schema: R.healthResponse } }, errors: [] },
  {
    method: 'get', path: '/readyz', operationId: 'readiness', tag: 'Operations', roles: 'public', summary: 'Readiness: Temporal and MongoDB reachable',
    ok: { 200: { description: 'Ready', schema: R.readinessResponse } },
    errors: [],
  },
  {
    method: 'get', path: '/metrics', operationId: 'metrics', tag: 'Operations', roles: 'public',
    summary: 'Prometheus metrics: HTTP requests by route and status, Temporal client calls by operation and outcome',
    ok: { 200: { description: 'Prometheus text exposition format', media: ['text'] } },
    errors: [],
  },
  { method: 'get', path: '/openapi.json', operationId: 'openApiDocument', tag: 'Operations', roles: 'public', summary: 'This document', ok: { 200: { description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) } }, errors: [] },
  { method: 'get', path: '/docs', operationId: 'docsPage', tag: 'Operations', roles: 'public', summary: 'API documentation page', ok: { 200: { description: 'HTML', media: ['html'] } }, errors: [] },
  { method: 'get', path: '/dashboard', operationId: 'dashboard', tag: 'Operations', roles: 'public', summary: 'Manager dashboard (sign in with a token)', ok: { 200: { description: 'HTML', media: ['html'] } }, errors: [] },
];

function catalogueRoutes(
  collection: string,
  type: string,
  what: string,
  idField: string,
  readRoles: string[],
  body: z.ZodType,
  item: z.ZodType,
  list: z.ZodType,
): RouteDoc[] {
  const tag = 'Reference data';
  const plural = collection[0]!.toUpperCase() + collection.slice(1);
  return [
    { method: 'get', path: `/v1/${collection}`, operationId: `list${plural}`, tag, roles: readRoles, summary: `${plural}`, ok: { 200: { description: `Every ${what}`, schema: list } }, errors: [] },
    { method: 'get', path: `/v1/${collection}/{id}`, operationId: `get${type}`, tag, roles: readRoles, summary: `One ${what}`, ok: { 200: { description: `The ${what}`, schema: item } }, errors: [404] },
    {
      method: 'put', path: `/v1/${collection}/{id}`, operationId: `put${type}`, tag, roles: ['admin'], body,
      summary: `Create or replace a ${what}`,
      ok: { 201: { description: 'Created', schema: item }, 200: { description: 'Replaced', schema: item } },
      errors: BODY,
      rules: [`${idField} in the body, when present, equals the path id`],
    },
  ];
}
