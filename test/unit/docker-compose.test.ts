/**
 * docker-compose.yml and the Dockerfile stay in step with the code: the API and
 * worker get only variables config/config.ts declares, every image is pinned,
 * and the image carries every source directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../config/config';
import { SEARCH_ATTRIBUTES } from '../../clients/search-attributes';

const ROOT = path.resolve(__dirname, '../..');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, unknown> | string[];
  healthcheck?: { test?: string | string[] };
  command?: string | string[];
}

const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const services = compose.services;
const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

function environmentNames(service: Service): string[] {
  const env = service.environment ?? {};
  return Array.isArray(env) ? env.map((entry) => entry.split('=')[0]!) : Object.keys(env);
}

/** The tag of an image reference (`registry:5000/name:tag@digest` → `tag`), or null. */
function imageTag(image: string): string | null {
  const withoutDigest = image.split('@')[0]!;
  const lastSegment = withoutDigest.split('/').pop()!;
  return lastSegment.includes(':') ? lastSegment.split(':').pop()! : null;
}

describe('docker-compose.yml', () => {
  it('has the production services', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', 'temporal-search-attributes', 'mongo', 'mongo-init', 'api', 'worker']) {
      expect(services).toHaveProperty(name);
    }
  });

  it.each(['api', 'worker'])('%s sets only variables declared in config/config.ts', (name) => {
    const names = environmentNames(services[name]!);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !CONFIG_VARIABLES.includes(n))).toEqual([]);
  });

  it.each(['api', 'worker'])('%s reaches Temporal, MongoDB and the secret through the environment', (name) => {
    const env = services[name]!.environment as Record<string, string>;
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(env.MONGODB_URI).toMatch(/^mongodb:\/\/mongo:27017\/.*replicaSet=rs0/);
    // Required from the operator, never a default baked into the file.
    expect(env.AUTH_JWT_SECRET).toMatch(/^\$\{AUTH_JWT_SECRET:\?.+\}$/);
  });

  it('pins every image to an explicit tag other than latest', () => {
    const images = Object.entries(services).filter(([, s]) => s.image !== undefined);
    expect(images.length).toBeGreaterThan(0);
    for (const [name, service] of images) {
      const tag = imageTag(service.image!);
      expect({ name, image: service.image, pinned: tag !== null && tag !== 'latest' && !service.image!.includes('${') }).toEqual({
        name,
        image: service.image,
        pinned: true,
      });
    }
  });

  it.each(['api', 'worker'])('%s builds from the repository Dockerfile', (name) => {
    const build = services[name]!.build;
    const context = typeof build === 'string' ? build : build?.context;
    const file = typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
    expect(context).toBeDefined();
    expect(path.resolve(ROOT, context!, file)).toBe(path.join(ROOT, 'Dockerfile'));
    expect(services[name]!.image).toBeUndefined();
  });

  it('runs the worker, not the API, in the worker service', () => {
    expect(JSON.stringify(services.worker!.command)).toContain('workers/main.ts');
  });

  it('gives mongo a healthcheck and a replica set', () => {
    expect(JSON.stringify(services.mongo!.healthcheck?.test)).toContain('ping');
    expect(services.mongo!.command).toEqual(expect.arrayContaining(['--replSet', 'rs0']));
    expect(JSON.stringify(services['mongo-init']!.command)).toContain('rs.initiate');
  });

  it('registers the search attributes the workflows define (workflows/messages.ts), as the local dev server does', () => {
    const script = JSON.stringify(services['temporal-search-attributes']!.command);
    const registered = Object.fromEntries([...script.matchAll(/\b(\w+)=(Keyword|Datetime|Bool|Text|Int|Double|KeywordList)\b/g)].map((m) => [m[1], m[2]]));
    expect(registered).toEqual(SEARCH_ATTRIBUTES);
  });
});

describe('Dockerfile', () => {
  it('starts from a pinned node 20 bookworm-slim image', () => {
    const from = /^FROM\s+(\S+)/m.exec(dockerfile)?.[1];
    expect(from).toMatch(/^node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
  });

  it('installs with npm ci and runs the API by default', () => {
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^CMD \[.*"api\/main\.ts"\]$/m);
  });

  it('copies every top-level directory that holds runtime TypeScript', () => {
    const notInImage = new Set(['node_modules', 'test', 'bench', 'sandbox', 'docs', 'tools', 'data', 'coverage']);
    const hasTs = (dir: string): boolean =>
      fs.readdirSync(dir, { withFileTypes: true }).some((e) =>
        e.isDirectory() ? e.name !== 'node_modules' && hasTs(path.join(dir, e.name)) : e.name.endsWith('.ts'),
      );
    const sourceDirs = fs
      .readdirSync(ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !notInImage.has(e.name) && hasTs(path.join(ROOT, e.name)))
      .map((e) => e.name);
    const copied = [...dockerfile.matchAll(/^COPY\s+(\S+)\s+\S+$/gm)].map((m) => m[1]!.replace(/\/$/, ''));
    expect(sourceDirs.filter((d) => !copied.includes(d))).toEqual([]);
  });
});
