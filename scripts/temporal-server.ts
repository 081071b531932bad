/** The Temporal dev server (`temporal server start-dev`, SQLite), with the workflows' search attributes registered. */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_INDEXED_TYPES, SEARCH_ATTRIBUTES } from '../clients/search-attributes';
import { assertPortFree, freePort, runningServer, spawnManaged, startOrStop, toolPaths, waitUntil, type RunningServer } from './processes';

export { SEARCH_ATTRIBUTES } from '../clients/search-attributes';

async function temporalReady(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.getSystemInfo({});
    // The namespace is created at launch (`default` always is); wait until it is served.
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

/** start-dev registers --search-attribute only on a fresh database: add what an older one lacks. */
async function ensureSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing: Record<string, number> = {};
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_INDEXED_TYPES)) {
      const existing = customAttributes?.[name];
      if (existing === undefined) missing[name] = type;
      else if (existing !== type) {
        throw new Error(`search attribute ${name} exists in namespace ${namespace} with another type (want ${SEARCH_ATTRIBUTES[name]}); use a fresh --db-filename`);
      }
    }
    if (Object.keys(missing).length) {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    }
  } finally {
    await connection.close();
  }
}

/** Without TEMPORAL_* variables: the CLI reads them as client settings, which a server must not pick up. */
function envWithoutTemporal(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
}

/**
 * `uiPort`: a port for the Web UI, `null` for none (--headless); omitted, a free port.
 */
export async function startTemporalDevServer(opts: {
  dbFile: string;
  port?: number;
  uiPort?: number | null;
  namespace?: string;
  logFile?: string;
  detached?: boolean;
  /** Dynamic config values to start with (bench:lifecycle compares some; none by default). */
  dynamicConfig?: Record<string, unknown>;
}): Promise<RunningServer & { address: string; uiUrl: string | null }> {
  const bin = toolPaths().temporal;
  if (!bin) {
    throw new Error('the Temporal CLI is not provisioned (TEMPORAL_ADDRESS was set): run `npm run provision` without it, or set TEMPORAL_CLI_PATH');
  }
  const namespace = opts.namespace ?? 'default';
  const port = opts.port ?? (await freePort());
  if (opts.port !== undefined) await assertPortFree(port);
  const uiPort = opts.uiPort === undefined ? await freePort() : opts.uiPort;
  if (opts.uiPort) await assertPortFree(opts.uiPort);
  const dbFile = path.resolve(opts.dbFile);
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });

  const args = [
    'server', 'start-dev',
    '--db-filename', dbFile,
    '--ip', '127.0.0.1',
    '--port', String(port),
    ...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]),
    // `default` always exists; naming it again is redundant.
    ...(namespace === 'default' ? [] : ['--namespace', namespace]),
    '--log-level', 'warn',
    // Concurrent readers (UI, visibility) do not block the writer.
    '--sqlite-pragma', 'journal_mode=wal',
    ...Object.entries(opts.dynamicConfig ?? {}).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  const proc = spawnManaged('temporal', bin, args, {
    logFile: opts.logFile,
    env: envWithoutTemporal(),
    detached: opts.detached,
  });
  const address = `127.0.0.1:${port}`;
  await startOrStop(proc, async () => {
    await waitUntil(proc, `the Temporal dev server on ${address}`, () => temporalReady(address, namespace));
    await ensureSearchAttributes(address, namespace);
  });
  return {
    ...runningServer(proc, address),
    address,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
  };
}
