/**
 * Every route of the OpenAPI table × every role (× own/other resource where
 * that matters), and every protected route × bad tokens. Driven by `ROUTES`, so
 * a route added there without a request factory below fails this file.
 */
import jwt from 'jsonwebtoken';
import { ROLES, signToken } from '../../api/auth';
import { ROUTES } from '../../api/openapi';
import { formatInstant } from '../../domain/calendar';
import type { DossierView } from '../../domain/dossier';
import type { Role, Submission } from '../../domain/types';
import { awaitingAssignedPickup, expectProblem, submitAndSettle, workflowView, type Answer } from '../support/api-checks';
import { submission } from '../support/fixtures';
import { SELF } from '../support/steps';
import { JWT_SECRET, System } from '../support/system';

type Scope = 'own' | 'other';

/** What the requests need: one dossier waiting for its assigned pickup courier, and the reference data as stored. */
interface Fixture {
  sub: Submission;
  view: DossierView;
  agencyId: string;
  courierId: string;
  refs: { procedure: unknown; agency: unknown; courier: unknown; tariff: unknown; calendar: { year: number } };
}

interface Ctx {
  role: Role;
  scope: Scope;
  fx: Fixture;
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: unknown;
  /** The answer for a role the route admits; default 2xx for own resources, 404 for another's. */
  status?: number;
  /** What else the client sees in that answer. */
  check?: (res: Answer) => void;
}

interface Factory {
  /** Roles for which "own" and "other" resources differ (another agency's dossier, a courier not assigned). */
  scopes?: Role[];
  build: (ctx: Ctx) => RequestSpec;
}

const OTHER_AGENCY = 'QN-STP';
const OTHER_COURIER = 'UB-BT01';
const FULL_PHONE = '0912345678';

/** An event per role that cannot fit a dossier awaiting pickup (409), so an admitted request changes nothing. */
const HARMLESS_EVENT: Record<Role, Record<string, unknown>> = {
  portal: { type: 'citizen.redelivery_requested' },
  agency: { type: 'agency.completed', outcome: 'approved' },
  courier: { type: 'courier.delivery_attempted', outcome: 'failed', reason: 'not_home' },
  clerk: { type: 'counter.collected', recipient: SELF },
  // Refused by role before anything is read; harmless even if that broke.
  manager: { type: 'citizen.redelivery_requested' },
  admin: { type: 'citizen.redelivery_requested' },
};

const codes = (res: Answer): string[] => (res.body?.items ?? []).map((i: { code?: string; dossierCode?: string }) => i.code ?? i.dossierCode);

const FACTORIES: Record<string, Factory> = {
  // The same submission again: 200, nothing new.
  'POST /v1/dossiers': {
    build: ({ fx }) => ({ method: 'POST', path: '/v1/dossiers', body: fx.sub, status: 200, check: (r) => expect(r.body.code).toBe(fx.sub.code) }),
  },
  'GET /v1/dossiers': {
    scopes: ['agency'],
    build: ({ role, scope, fx }) => ({
      method: 'GET',
      path: `/v1/dossiers?limit=100`,
      status: 200,
      check: (r) => {
        if (scope === 'other') expect(codes(r)).not.toContain(fx.sub.code);
        else expect(codes(r)).toContain(fx.sub.code);
        // An agency sees its own dossiers only.
        if (role === 'agency') expect(r.body.items.filter((i: { agencyId: string }) => i.agencyId !== (scope === 'own' ? fx.agencyId : OTHER_AGENCY))).toEqual([]);
      },
    }),
  },
  'GET /v1/dossiers/{code}': {
    scopes: ['agency', 'courier'],
    build: ({ role, fx }) => ({
      method: 'GET',
      path: `/v1/dossiers/${fx.sub.code}`,
      check: (r) => {
        expect(r.body).toMatchObject({ code: fx.sub.code, status: 'awaiting_pickup' });
        // Full personal data only for the portal, admins, clerks and the assigned courier.
        if (['portal', 'admin', 'clerk', 'courier'].includes(role)) expect(r.body.applicant.phone).toBe(FULL_PHONE);
        else expect(r.body.applicant.phone).toBe('*******678');
      },
    }),
  },
  'POST /v1/dossiers/{code}/events': {
    scopes: ['agency', 'courier'],
    build: ({ role, scope, fx }) => ({
      method: 'POST',
      path: `/v1/dossiers/${fx.sub.code}/events`,
      body: HARMLESS_EVENT[role],
      status: scope === 'own' ? 409 : 404,
      check: (r) => expect(r.body.type).toBe('/problems/invalid-transition'),
    }),
  },
  'GET /v1/track/{code}': {
    build: ({ fx }) => ({ method: 'GET', path: `/v1/track/${fx.sub.code}?phone=5678`, check: (r) => expect(r.body).toMatchObject({ code: fx.sub.code, status: 'awaiting_pickup' }) }),
  },
  'GET /v1/courier/jobs': {
    scopes: ['courier'],
    build: ({ scope, fx }) => ({
      method: 'GET',
      path: '/v1/courier/jobs',
      status: 200,
      check: (r) => (scope === 'own' ? expect(codes(r)).toContain(fx.sub.code) : expect(codes(r)).not.toContain(fx.sub.code)),
    }),
  },
  'GET /v1/compliance/summary': {
    build: () => ({ method: 'GET', path: '/v1/compliance/summary?from=2026-01-01&to=2026-01-31', check: (r) => expect(r.body).toHaveProperty('totals') }),
  },
  'GET /v1/compliance/overdue': { build: () => ({ method: 'GET', path: '/v1/compliance/overdue', check: (r) => expect(r.body.items).toEqual(expect.any(Array)) }) },
  'GET /v1/compliance/at-risk': { build: () => ({ method: 'GET', path: '/v1/compliance/at-risk', check: (r) => expect(r.body.items).toEqual(expect.any(Array)) }) },
  'GET /v1/compliance/snapshots': { build: () => ({ method: 'GET', path: '/v1/compliance/snapshots?from=2026-01-01&to=2026-01-31' }) },
  'GET /v1/procedures': { build: ({ fx }) => ({ method: 'GET', path: '/v1/procedures', check: (r) => expect(r.body.items).toContainEqual(fx.refs.procedure) }) },
  'GET /v1/procedures/{id}': { build: ({ fx }) => ({ method: 'GET', path: `/v1/procedures/${fx.sub.procedureCode}`, check: (r) => expect(r.body).toEqual(fx.refs.procedure) }) },
  // PUTs write back exactly what is stored: 200 (replaced), nothing changes.
  'PUT /v1/procedures/{id}': {
    build: ({ fx }) => ({ method: 'PUT', path: `/v1/procedures/${fx.sub.procedureCode}`, body: fx.refs.procedure, status: 200, check: (r) => expect(r.body).toEqual(fx.refs.procedure) }),
  },
  'GET /v1/agencies': { build: ({ fx }) => ({ method: 'GET', path: '/v1/agencies', check: (r) => expect(r.body.items).toContainEqual(fx.refs.agency) }) },
  'GET /v1/agencies/{id}': { build: ({ fx }) => ({ method: 'GET', path: `/v1/agencies/${fx.agencyId}`, check: (r) => expect(r.body).toEqual(fx.refs.agency) }) },
  'PUT /v1/agencies/{id}': {
    build: ({ fx }) => ({ method: 'PUT', path: `/v1/agencies/${fx.agencyId}`, body: fx.refs.agency, status: 200, check: (r) => expect(r.body).toEqual(fx.refs.agency) }),
  },
  'GET /v1/couriers': { build: ({ fx }) => ({ method: 'GET', path: '/v1/couriers', check: (r) => expect(r.body.items).toContainEqual(fx.refs.courier) }) },
  'GET /v1/couriers/{id}': { build: ({ fx }) => ({ method: 'GET', path: `/v1/couriers/${fx.courierId}`, check: (r) => expect(r.body).toEqual(fx.refs.courier) }) },
  'PUT /v1/couriers/{id}': {
    build: ({ fx }) => ({ method: 'PUT', path: `/v1/couriers/${fx.courierId}`, body: fx.refs.courier, status: 200, check: (r) => expect(r.body).toEqual(fx.refs.courier) }),
  },
  'GET /v1/tariffs': { build: ({ fx }) => ({ method: 'GET', path: '/v1/tariffs', check: (r) => expect(r.body).toEqual(fx.refs.tariff) }) },
  'PUT /v1/tariffs': { build: ({ fx }) => ({ method: 'PUT', path: '/v1/tariffs', body: fx.refs.tariff, status: 200, check: (r) => expect(r.body).toEqual(fx.refs.tariff) }) },
  'GET /v1/calendar/{year}': { build: ({ fx }) => ({ method: 'GET', path: `/v1/calendar/${fx.refs.calendar.year}`, check: (r) => expect(r.body).toEqual(fx.refs.calendar) }) },
  'PUT /v1/calendar/{year}': {
    build: ({ fx }) => ({
      method: 'PUT',
      path: `/v1/calendar/${fx.refs.calendar.year}`,
      body: fx.refs.calendar,
      status: 200,
      check: (r) => expect(r.body).toMatchObject(fx.refs.calendar),
    }),
  },
  'GET /healthz': { build: () => ({ method: 'GET', path: '/healthz' }) },
  'GET /readyz': { build: () => ({ method: 'GET', path: '/readyz' }) },
  'GET /metrics': { build: () => ({ method: 'GET', path: '/metrics' }) },
  'GET /openapi.json': { build: () => ({ method: 'GET', path: '/openapi.json', check: (r) => expect(r.body.openapi).toBe('3.1.0') }) },
  'GET /docs': { build: () => ({ method: 'GET', path: '/docs' }) },
  'GET /dashboard': { build: () => ({ method: 'GET', path: '/dashboard' }) },
};

const keyOf = (r: (typeof ROUTES)[number]) => `${r.method.toUpperCase()} ${r.path}`;

interface Case {
  name: string;
  route: (typeof ROUTES)[number];
  role: Role;
  scope: Scope;
}

const roleCases: Case[] = ROUTES.flatMap((route) =>
  ROLES.flatMap((role) => {
    const scoped = FACTORIES[keyOf(route)]?.scopes?.includes(role) ?? false;
    return (scoped ? (['own', 'other'] as const) : (['own'] as const)).map((scope) => ({
      name: `${keyOf(route)} as ${role}${scoped ? ` (${scope === 'own' ? (role === 'courier' ? 'assigned' : 'own') : role === 'courier' ? 'not assigned' : "another agency's"})` : ''}`,
      route,
      role,
      scope,
    }));
  }),
);

let sys: System;
let fx: Fixture;

beforeAll(async () => {
  sys = await System.start('authz');
  const sub = submission({ submittedAt: formatInstant(Date.now() - 60_000) });
  const view = await submitAndSettle(sys, sub, awaitingAssignedPickup);
  const courierId = view.job!.courierId!;
  expect(courierId).not.toBe(OTHER_COURIER);
  const admin = sys.token('admin');
  const read = async (path: string) => {
    const res = await sys.request('GET', path, { token: admin });
    expect(res.status).toBe(200);
    return res.body;
  };
  fx = {
    sub,
    view,
    agencyId: sub.agencyId,
    courierId,
    refs: {
      procedure: await read(`/v1/procedures/${sub.procedureCode}`),
      agency: await read(`/v1/agencies/${sub.agencyId}`),
      courier: await read(`/v1/couriers/${courierId}`),
      tariff: await read('/v1/tariffs'),
      calendar: await read('/v1/calendar/2026'),
    },
  };
});
afterAll(async () => {
  await sys?.stop();
});

function tokenFor(role: Role, scope: Scope): string {
  if (role === 'agency') return sys.token('agency', { agencyId: scope === 'own' ? fx.agencyId : OTHER_AGENCY });
  if (role === 'courier') return sys.token('courier', { courierId: scope === 'own' ? fx.courierId : OTHER_COURIER });
  return sys.token(role);
}

function build(route: (typeof ROUTES)[number], ctx: Ctx): RequestSpec {
  const factory = FACTORIES[keyOf(route)];
  if (!factory) throw new Error(`no request factory for ${keyOf(route)}: add one to FACTORIES in this file`);
  const spec = factory.build(ctx);
  expect(spec.method).toBe(route.method.toUpperCase());
  return spec;
}

function expect2xx(res: Answer): void {
  expect({ status: res.status, ok: res.status >= 200 && res.status < 300 }).toEqual({ status: res.status, ok: true });
}

test('every route in ROUTES has a request factory', () => {
  expect(ROUTES.map(keyOf).filter((k) => !FACTORIES[k])).toEqual([]);
});

describe('route × role: 403 for a role the route does not admit, its answer for one it does', () => {
  test.each(roleCases)('$name', async ({ route, role, scope }) => {
    const spec = build(route, { role, scope, fx });
    const res = await sys.request(spec.method, spec.path, { token: tokenFor(role, scope), body: spec.body });
    if (route.roles !== 'public' && !route.roles.includes(role)) {
      expectProblem(res, 403);
      return;
    }
    const status = route.roles === 'public' ? undefined : (spec.status ?? (scope === 'other' ? 404 : undefined));
    if (status === undefined) expect2xx(res);
    else if (status >= 400) expectProblem(res, status);
    else expect(res.status).toBe(status);
    // Another's resource answers like an unknown one, so codes cannot be probed.
    if (status === 404) expect(res.body.type).toBe('/problems/not-found');
    else spec.check?.(res);
  });
});

/** Tokens that must never get through; each claims the admin role, so a pass would show. */
const BAD_TOKENS: [string, () => string | undefined][] = [
  ['no token', () => undefined],
  ['a malformed token', () => 'not-a-jwt'],
  ['an expired token', () => jwt.sign({ sub: 'admin-test', role: 'admin', exp: Math.floor(Date.now() / 1000) - 60 }, JWT_SECRET, { algorithm: 'HS256' })],
  ['a token signed with another secret', () => signToken('another-secret-that-is-also-32-characters-long', { sub: 'admin-test', role: 'admin' })],
  ['an unsigned (alg none) token', () => unsigned({ sub: 'admin-test', role: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 })],
  ['a token without exp', () => jwt.sign({ sub: 'admin-test', role: 'admin' }, JWT_SECRET, { algorithm: 'HS256' })],
  ['a token with an unknown role', () => jwt.sign({ sub: 'root', role: 'root' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 })],
];

function unsigned(claims: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

const tokenCases = ROUTES.flatMap((route) => BAD_TOKENS.map(([what, token]) => ({ name: `${keyOf(route)} with ${what}`, route, token })));

describe('route × bad token: 401 on every protected route, public routes answer anyway', () => {
  test.each(tokenCases)('$name', async ({ route, token }) => {
    const spec = build(route, { role: 'admin', scope: 'own', fx });
    const res = await sys.request(spec.method, spec.path, { token: token(), body: spec.body });
    if (route.roles === 'public') expect2xx(res);
    else expectProblem(res, 401);
  });
});

test('the admitted requests above changed nothing in the dossier', async () => {
  const now = await workflowView(sys, fx.sub.code);
  expect({ version: now?.version, status: now?.status, timeline: now?.timeline }).toEqual({ version: fx.view.version, status: fx.view.status, timeline: fx.view.timeline });
  const read = await sys.request('GET', `/v1/dossiers/${fx.sub.code}`, { token: sys.token('admin') });
  expect({ version: read.body.version, timeline: read.body.timeline }).toEqual({ version: fx.view.version, timeline: fx.view.timeline });
});
