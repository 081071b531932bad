// Chromium for the browser tests (test/browser): CHROMIUM_PATH, /usr/bin/chromium,
// or apt-get install chromium.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fail, findOnPath, fromEnv, isExecutable, lastLine, lock, readOr, rel, say, TOOLS } from './common.mjs';

const CHROMIUM_BIN = '/usr/bin/chromium';
const APT_LOG = path.join(TOOLS, 'apt.log');

/** CHROMIUM_PATH or /usr/bin/chromium when executable, else null; never installs. */
export function chromiumAtHand() {
  const value = process.env.CHROMIUM_PATH;
  if (value) return isExecutable(path.resolve(value)) ? path.resolve(value) : null;
  return isExecutable(CHROMIUM_BIN) ? CHROMIUM_BIN : null;
}

/**
 * The browser tests' Chromium: CHROMIUM_PATH, else the Debian package, installed
 * with apt-get when missing. The binary itself is the stamp: apt owns its updates.
 */
export function ensureChromium() {
  const fromVariable = fromEnv('CHROMIUM_PATH');
  if (fromVariable) return fromVariable;
  if (isExecutable(CHROMIUM_BIN)) return CHROMIUM_BIN;
  const aptGet =
    findOnPath('apt-get') ??
    fail(`Chromium for the browser tests is missing: no ${CHROMIUM_BIN} and no apt-get. Install Chromium and set CHROMIUM_PATH.`);
  if (process.getuid?.() !== 0) {
    fail(`Chromium for the browser tests is missing: no ${CHROMIUM_BIN}, and apt-get needs root. Run \`apt-get install chromium\` as root, or set CHROMIUM_PATH.`);
  }
  lock();
  if (isExecutable(CHROMIUM_BIN)) return CHROMIUM_BIN;

  say(`installing chromium with apt-get (first run, a few minutes; log: ${rel(APT_LOG)})…`);
  const log = fs.openSync(APT_LOG, 'w');
  // Waits for another apt/dpkg run instead of failing on its lock.
  const apt = (args) =>
    spawnSync(aptGet, ['-o', 'DPkg::Lock::Timeout=600', ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', log, log],
    });
  let run = apt(['update']);
  if (run.status === 0) run = apt(['install', '-y', '--no-install-recommends', 'chromium']);
  fs.closeSync(log);
  if (run.status !== 0 || !isExecutable(CHROMIUM_BIN)) {
    fail(
      `apt-get install chromium failed: ${lastLine(readOr(APT_LOG, '')) || `exit ${run.status}`} ` +
        `(full log: ${rel(APT_LOG)}). Check access to the Debian mirror, or set CHROMIUM_PATH to an existing Chromium.`,
    );
  }
  return CHROMIUM_BIN;
}

export function verifyChromium(bin) {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0 || !/chrom/i.test(run.stdout)) {
    fail(`Chromium at ${bin} does not run: ${lastLine(run.stderr) || lastLine(run.stdout) || run.error?.message || `exit ${run.status}`}`);
  }
}
