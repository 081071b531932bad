import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import pino from 'pino';
import { createApp } from '../../api/app';
import { openApiDocument, ROUTES } from '../../api/openapi';

interface Layer {
  route?: { path: string; methods: Record<string, boolean>; stack: { handle: { roles?: string[] } }[] };
  handle?: { stack?: Layer[] };
}

/** Every route the Express app serves, as `METHOD /path/{param}` → the roles its requireRole lets through ('public' without one). */
function routesOf(stack: Layer[]): [string, string][] {
  return stack.flatMap((layer): [string, string][] => {
    if (layer.route) {
      const roles = layer.route.stack.find((l) => l.handle.roles)?.handle.roles;
      return Object.keys(layer.route.methods).map((m) => [
        `${m.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`,
        roles ? [...roles].sort().join(',') : 'public',
      ]);
    }
    return layer.handle?.stack ? routesOf(layer.handle.stack) : [];
  });
}

// Path parameters are compared by position, not name.
const normalise = (route: string) => route.replace(/\{\w+\}/g, '{}');

test('the OpenAPI document describes exactly the routes the server has, with the roles each one admits', () => {
  // Building the app touches neither Temporal nor MongoDB.
  const app = createApp({ temporal: {} as Client, db: {} as Db, jwtSecret: 'x'.repeat(32), taskQueue: 'q', settings: { supplementRule: 'restart', classOneProvinces: [] }, log: pino({ level: 'silent' }) });
  const served = routesOf((app as unknown as { router: { stack: Layer[] } }).router.stack)
    .map(([route, roles]) => [normalise(route), roles])
    .sort();
  const documented = ROUTES.map((r) => [normalise(`${r.method.toUpperCase()} ${r.path}`), r.roles === 'public' ? 'public' : [...r.roles].sort().join(',')]).sort();
  expect(served).toEqual(documented);

  const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, unknown>> };
  expect(doc.openapi).toBe('3.1.0');
  expect(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => normalise(`${m.toUpperCase()} ${path}`))).sort()).toEqual(
    documented.map(([route]) => route),
  );
  expect(JSON.stringify(doc.paths['/v1/dossiers']!.post)).toContain('pickupAddress');
});

/**
 * A real OpenAPI 3.1 validator over the served document. The validator is an
 * ES module, which this CommonJS test run cannot load, so it runs in a child node.
 */
test('the document is valid OpenAPI 3.1 by an independent validator', () => {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const res = await new Validator().validate(JSON.parse(text));
    process.stdout.write(JSON.stringify({ valid: res.valid, errors: res.errors ?? null }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.join(__dirname, '..', '..'),
    input: JSON.stringify(openApiDocument()),
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toEqual({ valid: true, errors: null });
});

interface Operation {
  operationId?: string;
  tags?: string[];
  parameters?: { name: string; in: string; schema?: { pattern?: string } }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
}
const operations = () =>
  Object.entries((openApiDocument() as { paths: Record<string, Record<string, Operation>> }).paths).flatMap(([p, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${p}`, op })),
  );

test('every operation has a unique operationId, a tag and a 2xx answer with a content type and schema', () => {
  const ops = operations();
  const ids = ops.map(({ op }) => op.operationId);
  expect(ids.every(Boolean)).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  for (const { route, op } of ops) {
    expect([route, op.tags?.length]).toEqual([route, 1]);
    const ok = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
    expect([route, ok.length > 0]).toEqual([route, true]);
    for (const [status, r] of ok) {
      const media = Object.entries(r.content ?? {});
      expect([route, status, media.length > 0 && media.every(([, m]) => m.schema !== undefined)]).toEqual([route, status, true]);
    }
    // Every error is problem+json.
    for (const [status, r] of Object.entries(op.responses).filter(([s]) => /^[45]/.test(s) && !(route === 'GET /readyz' && s === '503'))) {
      expect([route, status, Object.keys(r.content ?? {})]).toEqual([route, status, ['application/problem+json']]);
    }
  }
});

test('the statuses the contract names: 201 on submit, 201/200 on the create-or-replace PUTs, path patterns, every query parameter', () => {
  const byRoute = new Map(operations().map(({ route, op }) => [route, op]));
  const statuses = (route: string) => Object.keys(byRoute.get(route)!.responses);
  expect(statuses('POST /v1/dossiers')).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '409', '415', '503']));
  for (const put of ['PUT /v1/procedures/{id}', 'PUT /v1/agencies/{id}', 'PUT /v1/couriers/{id}', 'PUT /v1/calendar/{year}']) {
    expect([put, statuses(put)]).toEqual([put, expect.arrayContaining(['200', '201', '400'])]);
  }
  expect(statuses('POST /v1/dossiers/{code}/events')).toEqual(expect.arrayContaining(['200', '404', '409', '422']));
  expect(statuses('GET /v1/track/{code}')).toEqual(expect.arrayContaining(['200', '400', '404', '429']));

  const params = (route: string, where: string) => (byRoute.get(route)!.parameters ?? []).filter((p) => p.in === where).map((p) => p.name);
  expect(params('GET /v1/dossiers', 'query')).toEqual(['status', 'agencyId', 'procedureCode', 'from', 'to', 'cursor', 'limit']);
  expect(params('GET /v1/compliance/summary', 'query')).toEqual(['from', 'to', 'groupBy', 'stage', 'agencyId', 'procedureCode', 'format']);
  expect(params('GET /v1/compliance/overdue', 'query')).toEqual(['stage', 'agencyId', 'limit', 'format']);
  expect(params('GET /v1/compliance/at-risk', 'query')).toEqual(['withinHours', 'limit', 'format']);
  expect(params('GET /v1/compliance/snapshots', 'query')).toEqual(['from', 'to']);
  expect(params('GET /v1/track/{code}', 'query')).toEqual(['phone']);
  for (const { route, op } of operations()) {
    for (const p of (op.parameters ?? []).filter((x) => x.in === 'path')) expect([route, p.name, typeof p.schema?.pattern]).toEqual([route, p.name, 'string']);
  }
});

test('the request examples are bodies the schemas accept, and the submission links to the operations on its code', () => {
  for (const r of ROUTES.filter((x) => x.example !== undefined)) expect([r.operationId, r.body!.safeParse(r.example).success]).toEqual([r.operationId, true]);
  const submit = operations().find(({ route }) => route === 'POST /v1/dossiers')!.op as unknown as { responses: Record<string, { links?: Record<string, { operationId: string }> }> };
  const ids = new Set(operations().map(({ op }) => op.operationId));
  for (const status of ['200', '201']) {
    const links = Object.values(submit.responses[status]!.links ?? {});
    expect(links.map((l) => l.operationId)).toEqual(['getDossier', 'reportEvent', 'trackDossier']);
    for (const l of links) expect(ids.has(l.operationId)).toBe(true);
  }
});

test('the cross-field rules zod enforces are in the body schemas where JSON Schema can say them, and in words', () => {
  const byRoute = new Map(operations().map(({ route, op }) => [route, op]));
  const submit = JSON.stringify(byRoute.get('POST /v1/dossiers')!);
  expect(submit).toContain('"anyOf":[{"properties":{"services"');
  expect(submit).toContain('"else":{"not":{"required":["delivery"]}}');
  expect(submit).toContain('delivery is required when services.deliver is true, and only then');
  expect(JSON.stringify(byRoute.get('POST /v1/dossiers/{code}/events')!)).toContain('"then":{"required":["recipient"]}');
  expect(JSON.stringify(byRoute.get('PUT /v1/agencies/{id}')!)).toContain('id in the body, when present, equals the path id');
});
