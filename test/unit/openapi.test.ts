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
