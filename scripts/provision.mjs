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
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = path.join(ROOT, '.tools');
const VENV = path.join(TOOLS, 'venv');
const PATHS_FILE = path.join(TOOLS, 'paths.json');
const LOCK_FILE = path.join(TOOLS, 'provision.lock');
const REQUIREMENTS = path.join(ROOT, 'tools', 'requirements.txt');
const REQUIREMENTS_STAMP = path.join(VENV, '.requirements.sha256');
const PIP_LOG = path.join(TOOLS, 'pip.log');
const FERRET_SRC = path.join(ROOT, 'tools', 'ferretdb');
const FERRET_MODULE = 'github.com/FerretDB/FerretDB';
const FERRET_PATCH = 'sqlite-index-pushdown.patch';
const FERRET_INPUTS = ['go.mod', 'go.sum', 'main.go', FERRET_PATCH];
// The patched copy of FerretDB's module source, and the modfile that replaces the module with it.
const FERRET_PATCHED = path.join(TOOLS, 'ferretdb-src');
const FERRET_MODFILE_DIR = path.join(TOOLS, 'ferretdb-mod');
const FERRET_BIN = path.join(TOOLS, 'bin', 'ferretdb');
const FERRET_STAMP = `${FERRET_BIN}.sha256`;
const FERRET_LOG = path.join(TOOLS, 'ferretdb-build.log');
const CHROMIUM_BIN = '/usr/bin/chromium';
const APT_LOG = path.join(TOOLS, 'apt.log');

class ProvisionError extends Error {}

const fail = (message) => {
  throw new ProvisionError(message);
};
const say = (message) => console.log(`provision: ${message}`);
const rel = (p) => path.relative(ROOT, p) || '.';
const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function parseArgs(argv) {
  let purpose = 'test';
  for (const arg of argv) {
    const m = /^--for=(start|test)$/.exec(arg);
    if (!m) fail(`unknown argument '${arg}' (usage: node scripts/provision.mjs [--for=start|test])`);
    purpose = m[1];
  }
  return purpose;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function readOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function sha256(parts) {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

/** `name` on PATH, skipping .tools/ entries: those are ours and kept current below. */
function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || path.resolve(dir).startsWith(TOOLS + path.sep)) continue;
    const file = path.join(dir, name);
    if (isExecutable(file)) return file;
  }
  return null;
}

function fromEnv(variable) {
  const value = process.env[variable];
  if (!value) return null;
  const file = path.resolve(value);
  if (!isExecutable(file)) fail(`${variable}=${value} is not an executable file. Fix it or unset it.`);
  return file;
}

function lastLine(text) {
  const lines = String(text ?? '').trim().split('\n').filter((l) => l.trim());
  return (lines.at(-1) ?? '').trim().slice(0, 300);
}

let lockHeld = false;

/** Serialises installs between concurrent runs; released when the process exits. */
function lock() {
  if (lockHeld) return;
  fs.mkdirSync(TOOLS, { recursive: true });
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(LOCK_FILE, String(process.pid), { flag: 'wx' });
      lockHeld = true;
      process.on('exit', () => fs.rmSync(LOCK_FILE, { force: true }));
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const owner = Number(readOr(LOCK_FILE, ''));
    let ageMs;
    try {
      ageMs = Date.now() - fs.statSync(LOCK_FILE).mtimeMs;
    } catch {
      continue; // released between our two looks
    }
    // An empty file is a lock being written right now, unless it is old.
    if (owner ? !isAlive(owner) : ageMs > 30_000) {
      fs.rmSync(LOCK_FILE, { force: true });
      continue;
    }
    if (!announced) say(`waiting for another provision run (pid ${owner || '?'}) to finish…`);
    announced = true;
    sleepSync(500);
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

// ---------------------------------------------------------------- venv (pip)

const venvBin = (name) => path.join(VENV, 'bin', name);

function venvIsCurrent(hash) {
  return (
    readOr(REQUIREMENTS_STAMP, '').trim() === hash &&
    isExecutable(venvBin('temporal')) &&
    isExecutable(venvBin('temporal-test-server'))
  );
}

/** Installs tools/requirements.txt into .tools/venv unless the stamp says it already is. Returns true when it installed. */
function ensureVenv() {
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

// ------------------------------------------------------------- FerretDB (go)

function ferretHash() {
  return sha256(FERRET_INPUTS.flatMap((name) => [name, readOr(path.join(FERRET_SRC, name), '')]));
}

function ferretIsCurrent(hash) {
  return readOr(FERRET_STAMP, '').trim() === hash && isExecutable(FERRET_BIN);
}

/** Builds .tools/bin/ferretdb unless the stamp matches tools/ferretdb's inputs. */
async function ensureFerretDB() {
  const missing = FERRET_INPUTS.filter((name) => !fs.existsSync(path.join(FERRET_SRC, name)));
  if (missing.length) fail(`cannot build FerretDB: tools/ferretdb/${missing.join(', ')} missing; restore it from git.`);
  const hash = ferretHash();
  if (ferretIsCurrent(hash)) return;
  lock();
  if (ferretIsCurrent(hash)) return;

  const go =
    findOnPath('go') ??
    fail("cannot build FerretDB: 'go' not found on PATH. Install Go >= 1.24 or set MONGODB_URI to an existing MongoDB.");
  const version = /github\.com\/FerretDB\/FerretDB (v\S+)/.exec(readOr(path.join(FERRET_SRC, 'go.mod'), ''))?.[1] ?? '';
  say(
    isExecutable(FERRET_BIN)
      ? `rebuilding FerretDB ${version} (tools/ferretdb differs from the last build, up to 2 minutes)…`
      : `building FerretDB ${version} (first run, about 2 minutes)…`,
  );
  fs.mkdirSync(path.dirname(FERRET_BIN), { recursive: true });
  const log = fs.openSync(FERRET_LOG, 'w');
  const run = (args, cwd, env = {}) =>
    spawnSync(go, args, {
      cwd,
      env: { ...process.env, CGO_ENABLED: '0', ...env },
      stdio: ['ignore', log, log],
      encoding: 'utf8',
    });
  const goFail = (what, result) => {
    fs.closeSync(log);
    fail(
      `${what} failed: ${lastLine(readOr(FERRET_LOG, '')) || `exit ${result.status}`} (full log: ${rel(FERRET_LOG)}). ` +
        'Needs Go >= 1.24 and the Go module proxy (first run only), or set MONGODB_URI to an existing MongoDB.',
    );
  };

  // The only step that may reach the module proxy: fills the module cache.
  const download = spawnSync(go, ['mod', 'download', '-json', `${FERRET_MODULE}@${version}`], {
    cwd: FERRET_SRC,
    encoding: 'utf8',
  });
  const moduleDir = download.status === 0 ? JSON.parse(download.stdout).Dir : null;
  if (!moduleDir) {
    fs.writeSync(log, `${download.stdout ?? ''}${download.stderr ?? ''}`);
    goFail(`go mod download ${FERRET_MODULE}@${version}`, download);
  }
  let result = run(['mod', 'download'], FERRET_SRC);
  if (result.status !== 0) goFail('go mod download (tools/ferretdb)', result);

  // A fresh writable copy (the module cache is read-only), then the patch.
  fs.rmSync(FERRET_PATCHED, { recursive: true, force: true });
  fs.cpSync(moduleDir, FERRET_PATCHED, { recursive: true });
  makeWritable(FERRET_PATCHED);
  applyPatch(path.join(FERRET_SRC, FERRET_PATCH), FERRET_PATCHED, log);

  // FerretDB's own tests of the patched backend (about 5 s once compiled). They
  // need a version file and a .git directory to find their root, as in a checkout.
  fs.writeFileSync(path.join(FERRET_PATCHED, 'build', 'version', 'version.txt'), `${version}\n`);
  fs.mkdirSync(path.join(FERRET_PATCHED, '.git'), { recursive: true });
  say('running FerretDB\'s internal/backends/sqlite tests against the patched source…');
  result = run(['test', '-count=1', './internal/backends/sqlite/...'], FERRET_PATCHED, { GOFLAGS: '-mod=mod' });
  if (result.status !== 0) goFail('go test ./internal/backends/sqlite/... (patched FerretDB)', result);

  // The committed go.mod stays clean: the replace lives in a modfile under .tools/.
  fs.rmSync(FERRET_MODFILE_DIR, { recursive: true, force: true });
  fs.mkdirSync(FERRET_MODFILE_DIR, { recursive: true });
  const modfile = path.join(FERRET_MODFILE_DIR, 'go.mod');
  fs.writeFileSync(
    modfile,
    `${readOr(path.join(FERRET_SRC, 'go.mod'), '')}\nreplace ${FERRET_MODULE} => ${FERRET_PATCHED}\n`,
  );
  fs.copyFileSync(path.join(FERRET_SRC, 'go.sum'), path.join(FERRET_MODFILE_DIR, 'go.sum'));

  // Build next to the target and rename, so a failed build never leaves a broken binary.
  const tmp = `${FERRET_BIN}.tmp-${process.pid}`;
  result = run(['build', `-modfile=${modfile}`, '-o', tmp, '.'], FERRET_SRC, { GOFLAGS: '-mod=mod', GOPROXY: 'off' });
  if (result.status !== 0) {
    fs.rmSync(tmp, { force: true });
    goFail('go build of tools/ferretdb (patched FerretDB)', result);
  }
  fs.closeSync(log);
  say('checking that the new FerretDB answers a MongoDB hello…');
  try {
    await verifyFerretDB(tmp);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.renameSync(tmp, FERRET_BIN);
  fs.writeFileSync(FERRET_STAMP, `${hash}\n`);
}

function makeWritable(dir) {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(p);
    else if (entry.isFile()) fs.chmodSync(p, 0o644);
  }
}

/** `patch -p1`, or `git apply` where patch is missing (kept out of this repository by a ceiling). */
function applyPatch(patchFile, dir, log) {
  const patch = findOnPath('patch');
  const git = findOnPath('git');
  const run = patch
    ? spawnSync(patch, ['-p1', '--forward', '--batch', '-d', dir, '-i', patchFile], { stdio: ['ignore', log, log] })
    : git
      ? spawnSync(git, ['apply', patchFile], {
          cwd: dir,
          env: { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(dir) },
          stdio: ['ignore', log, log],
        })
      : fail(`cannot patch FerretDB: neither 'patch' nor 'git' is on PATH. Install one, or set MONGODB_URI.`);
  if (run.status !== 0) {
    fs.closeSync(log);
    fail(
      `applying tools/ferretdb/${FERRET_PATCH} failed: ${lastLine(readOr(FERRET_LOG, '')) || `exit ${run.status}`} ` +
        `(full log: ${rel(FERRET_LOG)}). The patch is for FerretDB's pinned version; update it with the pin.`,
    );
  }
}

// ------------------------------------------------------- Chromium (apt-get)

/** CHROMIUM_PATH or /usr/bin/chromium when executable, else null; never installs. */
function chromiumAtHand() {
  const value = process.env.CHROMIUM_PATH;
  if (value) return isExecutable(path.resolve(value)) ? path.resolve(value) : null;
  return isExecutable(CHROMIUM_BIN) ? CHROMIUM_BIN : null;
}

/**
 * The browser tests' Chromium: CHROMIUM_PATH, else the Debian package, installed
 * with apt-get when missing. The binary itself is the stamp: apt owns its updates.
 */
function ensureChromium() {
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

function verifyChromium(bin) {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0 || !/chrom/i.test(run.stdout)) {
    fail(`Chromium at ${bin} does not run: ${lastLine(run.stderr) || lastLine(run.stdout) || run.error?.message || `exit ${run.status}`}`);
  }
}

// ------------------------------------------------------------- verification

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** OP_MSG {hello: 1, $db: 'admin'}, hand-encoded (no driver available here). */
function helloMessage(requestId) {
  const int32 = (n) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return b;
  };
  const cstring = (s) => Buffer.from(`${s}\0`, 'utf8');
  const elements = Buffer.concat([
    Buffer.from([0x10]), cstring('hello'), int32(1), // int32 hello: 1
    Buffer.from([0x02]), cstring('$db'), int32(Buffer.byteLength('admin') + 1), cstring('admin'), // string $db
  ]);
  const doc = Buffer.concat([int32(4 + elements.length + 1), elements, Buffer.from([0])]);
  const body = Buffer.concat([int32(0) /* flagBits */, Buffer.from([0]) /* section kind: body */, doc]);
  return Buffer.concat([int32(16 + body.length), int32(requestId), int32(0), int32(2013 /* OP_MSG */), body]);
}

/** Resolves true when the port answers hello with an OP_MSG reply carrying ok: 1. */
function mongoHello(port) {
  return new Promise((resolve) => {
    const requestId = 1 + Math.floor(Math.random() * 1e6);
    let received = Buffer.alloc(0);
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write(helloMessage(requestId)));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < received.readInt32LE(0)) return;
      const isReply = received.readInt32LE(8) === requestId && received.readInt32LE(12) === 2013;
      // Top-level `ok` is a double (type 0x01) in the reply document.
      const at = received.indexOf(Buffer.from([0x01, 0x6f, 0x6b, 0x00]), 21);
      done(isReply && at > 0 && received.readDoubleLE(at + 4) === 1);
    });
  });
}

function waitForExit(child, ms) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(child) {
  child.kill('SIGTERM');
  if (!(await waitForExit(child, 10_000))) {
    child.kill('SIGKILL');
    await waitForExit(child, 5_000);
  }
}

/** Starts `command args(port)` on a free port and waits until `ready(port)` holds, then stops it. */
async function verifyServer(label, command, args, ready) {
  const port = await freePort();
  let output = '';
  const child = spawn(command, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk) => {
    output = (output + chunk).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  child.on('error', (err) => collect(String(err.message)));
  try {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await ready(port)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    fail(`${label} (${command}) did not answer on 127.0.0.1:${port} within 30 s: ${lastLine(output) || 'no output'}`);
  } finally {
    await stopChild(child);
  }
}

async function verifyFerretDB(bin) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferretdb-check-'));
  try {
    await verifyServer(
      'FerretDB',
      bin,
      (port) => ['--listen-addr', `127.0.0.1:${port}`, '--sqlite-dir', dir, '--log-level', 'warn'],
      mongoHello,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function verifyTemporalCli(bin) {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0 || !/temporal version/i.test(run.stdout)) {
    fail(`${bin} --version failed: ${lastLine(run.stderr) || lastLine(run.stdout) || run.error?.message || `exit ${run.status}`}`);
  }
}

function verifyRunsHelp(label, bin) {
  const run = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) fail(`${label} at ${bin} does not run: ${lastLine(run.stderr) || run.error?.message || `exit ${run.status}`}`);
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
