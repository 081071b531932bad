/**
 * Starts the real servers the tests talk to, once per `jest` run, on free
 * ports in a temporary directory: FerretDB (MongoDB wire protocol, SQLite) and
 * the Temporal dev server. Workflow tests start their own time-skipping test
 * server from the provisioned binary. The workflow code is bundled once here.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startFerretDB, startTemporalDevServer, toolPaths, type RunningServer } from '../../scripts/servers';

declare global {
  var __testServers: RunningServer[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dossier-tests-'));
  const paths = toolPaths();
  if (!paths.temporalTestServer) throw new Error('the time-skipping test server is not provisioned: run `npm run provision`');
  process.env.TEMPORAL_TEST_SERVER_PATH = paths.temporalTestServer;
  process.env.TEST_TMP_DIR = dir;

  const [ferret, temporal, bundle] = await Promise.all([
    startFerretDB({ dataDir: join(dir, 'ferretdb'), logFile: join(dir, 'ferretdb.log') }),
    startTemporalDevServer({ dbFile: join(dir, 'temporal.db'), uiPort: null, logFile: join(dir, 'temporal.log') }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } }),
  ]);
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.TEST_MONGODB_URI = ferret.uri;
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  globalThis.__testServers = [temporal, ferret];
}
