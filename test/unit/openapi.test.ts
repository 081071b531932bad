import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import pino from 'pino';
import { createApp } from '../../api/app';
import { openApiDocument } from '../../api/openapi';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every (method, path) the Express app routes, with `:param` written as `{param}`. */
function routesOf(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`);
    }
    return layer.handle?.stack ? routesOf(layer.handle.stack) : [];
  });
}

test('the OpenAPI document describes exactly the routes the server has', () => {
  // Building the app touches neither Temporal nor MongoDB.
  const app = createApp({ temporal: {} as Client, db: {} as Db, jwtSecret: 'x'.repeat(32), taskQueue: 'q', settings: { supplementRule: 'restart', classOneProvinces: [] }, log: pino({ level: 'silent' }) });
  const served = routesOf((app as unknown as { router: { stack: Layer[] } }).router.stack).sort();
  const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{id\}|\{year\}/g, (p) => p)}`))
    .sort();
  const normalise = (r: string) => r.replace(/\{\w+\}/g, '{}');
  expect(served.map(normalise)).toEqual(documented.map(normalise));
  expect(doc.openapi).toBe('3.1.0');
  expect(JSON.stringify(doc.paths['/v1/dossiers']!.post)).toContain('pickupAddress');
});
