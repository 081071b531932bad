/**
 * scripts/servers.ts against the real provisioned binaries: FerretDB and the
 * Temporal dev server start on free ports in a temporary directory, answer,
 * register the search attributes, and leave no process behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import {
  SEARCH_ATTRIBUTES,
  canConnect,
  freePort,
  spawnManaged,
  startFerretDB,
  startTemporalDevServer,
  toolPaths,
  waitUntil,
  type RunningServer,
} from '../../scripts/servers';

// temporal.api.enums.v1.IndexedValueType
const INDEXED_VALUE_TYPE: Record<string, number> = { Keyword: 2, Bool: 5, Datetime: 6 };

async function customSearchAttributes(address: string, namespace: string) {
  const connection = await Connection.connect({ address });
  try {
    return (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes;
  } finally {
    await connection.close();
  }
}

const expectedAttributes = Object.fromEntries(
  Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]]),
);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('scripts/servers', () => {
  let dir: string;
  const started: RunningServer[] = [];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servers-test-'));
  });

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('starts FerretDB, which answers ping, and stops it', async () => {
    const ferret = await startFerretDB({ dataDir: path.join(dir, 'ferretdb'), logFile: path.join(dir, 'ferretdb.log') });
    started.push(ferret);
    expect(ferret.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);

    const client = new MongoClient(ferret.uri, { serverSelectionTimeoutMS: 5000 });
    try {
      expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1);
      await client.db('servers_test').collection('things').insertOne({ answer: 42 });
      expect(await client.db('servers_test').collection('things').countDocuments()).toBe(1);
    } finally {
      await client.close();
    }

    await ferret.stop();
    expect(isAlive(ferret.pid)).toBe(false);
  }, 30_000);

  it('starts the Temporal dev server with the search attributes, and stops it', async () => {
    const namespace = 'servers-test';
    const temporal = await startTemporalDevServer({
      dbFile: path.join(dir, 'temporal.db'),
      uiPort: null,
      namespace,
      logFile: path.join(dir, 'temporal.log'),
    });
    started.push(temporal);
    expect(temporal.uiUrl).toBeNull();

    const connection = await Connection.connect({ address: temporal.address });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toMatch(/^\d+\.\d+/);
    } finally {
      await connection.close();
    }
    expect(await customSearchAttributes(temporal.address, namespace)).toMatchObject(expectedAttributes);

    await temporal.stop();
    expect(isAlive(temporal.pid)).toBe(false);
  }, 30_000);

  // start-dev registers --search-attribute only when it creates the database.
  it('adds the search attributes to a database created without them', async () => {
    const dbFile = path.join(dir, 'older.db');
    const port = await freePort();
    const older = spawnManaged('temporal', toolPaths().temporal!, [
      'server', 'start-dev', '--db-filename', dbFile, '--ip', '127.0.0.1', '--port', String(port), '--headless',
    ]);
    await waitUntil(older, 'the Temporal dev server', () => canConnect(port));
    await waitUntil(older, 'the default namespace', async () => (await customSearchAttributes(`127.0.0.1:${port}`, 'default')) !== undefined);
    await older.stop();

    const temporal = await startTemporalDevServer({ dbFile, uiPort: null });
    started.push(temporal);
    expect(await customSearchAttributes(temporal.address, 'default')).toMatchObject(expectedAttributes);
    await temporal.stop();
  }, 30_000);
});
