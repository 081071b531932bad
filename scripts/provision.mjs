#!/usr/bin/env node
// Resolves the binaries the project runs locally and records their absolute
// paths in .tools/paths.json ({temporal, temporalTestServer, ferretdb, chromium}):
//   - Temporal CLI:        TEMPORAL_CLI_PATH > `temporal` on PATH > .tools/venv (pip, tools/requirements.txt)
//   - time-skipping server: TEMPORAL_TEST_SERVER_PATH > `temporal-test-server` on PATH > .tools/venv
//   - FerretDB:            `ferretdb` on PATH > .tools/bin/ferretdb (go build of tools/ferretdb, with
//                          FerretDB's module source patched by tools/ferretdb/*.patch)
//   - Chromium (tests only, test/browser): CHROMIUM_PATH > /usr/bin/chromium > apt-get install chromium
// The CLI is not needed when TEMPORAL_ADDRESS names an existing server; FerretDB
// is not needed for `--for=start` when MONGODB_URI is set. Tests always need the
// test server and FerretDB.
//
// Plain Node, no npm dependencies: it runs before anything else. Stamps (hashes
// of the inputs) make a second run a few file reads; a lock keeps two
// concurrent first runs (npm test and npm start) from installing twice.
//
// The steps live in scripts/provision/: common.mjs (paths, lock), venv.mjs (pip),
// ferretdb.mjs (go build + patch), chromium.mjs (apt-get), verify.mjs (checks).
import fs from 'node:fs';
import path from 'node:path';
import { chromiumAtHand, ensureChromium, verifyChromium } from './provision/chromium.mjs';
import { PATHS_FILE, ProvisionError, TOOLS, fail, findOnPath, fromEnv, isExecutable, readOr, rel, say } from './provision/common.mjs';
import { FERRET_BIN, ensureFerretDB, ferretHash, ferretIsCurrent } from './provision/ferretdb.mjs';
import { VENV, ensureVenv, venvBin } from './provision/venv.mjs';
import { canConnect, verifyRunsHelp, verifyServer, verifyTemporalCli } from './provision/verify.mjs';

function parseArgs(argv) {
  let purpose = 'test';
  for (const arg of argv) {
    const m = /^--for=(start|test)$/.exec(arg);
    if (!m) fail(`unknown argument '${arg}' (usage: node scripts/provision.mjs [--for=start|test])`);
    purpose = m[1];
  }
  return purpose;
}

// ----------------------------------------------------------------------- main

async function main() {
  const purpose = parseArgs(process.argv.slice(2));
  const previous = JSON.parse(readOr(PATHS_FILE, '{}'));

  // Not needed: still recorded when already at hand, so paths.json does not flip
  // between `--for=start` and test runs.
  const needCli = !process.env.TEMPORAL_ADDRESS;
  const needFerretDB = !(process.env.MONGODB_URI && purpose === 'start');

  const cliCandidate = fromEnv('TEMPORAL_CLI_PATH') ?? findOnPath('temporal') ?? venvBin('temporal');
  const testServer =
    fromEnv('TEMPORAL_TEST_SERVER_PATH') ?? findOnPath('temporal-test-server') ?? venvBin('temporal-test-server');
  const inVenv = (p) => p.startsWith(VENV + path.sep);
  const venvInstalled = (inVenv(testServer) || (needCli && inVenv(cliCandidate))) && ensureVenv();
  const cli = needCli || isExecutable(cliCandidate) ? cliCandidate : null;

  // Check a binary after installing it or when it is not the one used last time.
  const fresh = (key, value) => (venvInstalled && inVenv(value)) || previous[key] !== value;
  if (cli && fresh('temporal', cli)) verifyTemporalCli(cli);
  if (fresh('temporalTestServer', testServer)) {
    await verifyServer('the Temporal test server', testServer, (port) => [String(port)], canConnect);
  }

  let ferretdb = findOnPath('ferretdb');
  if (ferretdb) {
    if (previous.ferretdb !== ferretdb) verifyRunsHelp('ferretdb', ferretdb);
  } else if (needFerretDB) {
    await ensureFerretDB();
    ferretdb = FERRET_BIN;
  } else if (ferretIsCurrent(ferretHash())) {
    ferretdb = FERRET_BIN;
  }

  // Only the browser tests need Chromium: `--for=start` never installs it.
  const chromium = purpose === 'test' ? ensureChromium() : chromiumAtHand();
  if (purpose === 'test' && chromium && previous.chromium !== chromium) verifyChromium(chromium);

  const paths = { temporal: cli, temporalTestServer: testServer, ferretdb, chromium };
  const text = `${JSON.stringify(paths, null, 2)}\n`;
  if (readOr(PATHS_FILE, '') !== text) {
    fs.mkdirSync(TOOLS, { recursive: true });
    fs.writeFileSync(PATHS_FILE, text);
    say(
      `ready: ${rel(PATHS_FILE)} → temporal ${cli ?? '(not needed)'}, test server ${testServer}, ferretdb ${ferretdb ?? '(not needed)'}, ` +
        `chromium ${chromium ?? '(not needed)'}`,
    );
  }
}

main().catch((err) => {
  console.error(`provision: ${err instanceof ProvisionError ? err.message : (err?.message ?? String(err)).split('\n')[0]}`);
  process.exit(1);
});
