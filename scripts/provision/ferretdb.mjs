// FerretDB: `go build` of tools/ferretdb into .tools/bin/ferretdb, against a copy
// of FerretDB's module source patched by tools/ferretdb/*.patch.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, TOOLS, fail, findOnPath, isExecutable, lastLine, lock, readOr, rel, say, sha256 } from './common.mjs';
import { verifyFerretDB } from './verify.mjs';

const FERRET_SRC = path.join(ROOT, 'tools', 'ferretdb');
const FERRET_MODULE = 'github.com/FerretDB/FerretDB';
const FERRET_PATCH = 'sqlite-index-pushdown.patch';
const FERRET_INPUTS = ['go.mod', 'go.sum', 'main.go', FERRET_PATCH];
// The patched copy of FerretDB's module source, and the modfile that replaces the module with it.
const FERRET_PATCHED = path.join(TOOLS, 'ferretdb-src');
const FERRET_MODFILE_DIR = path.join(TOOLS, 'ferretdb-mod');
export const FERRET_BIN = path.join(TOOLS, 'bin', 'ferretdb');
const FERRET_STAMP = `${FERRET_BIN}.sha256`;
const FERRET_LOG = path.join(TOOLS, 'ferretdb-build.log');

export function ferretHash() {
  return sha256(FERRET_INPUTS.flatMap((name) => [name, readOr(path.join(FERRET_SRC, name), '')]));
}

export function ferretIsCurrent(hash) {
  return readOr(FERRET_STAMP, '').trim() === hash && isExecutable(FERRET_BIN);
}

/** Builds .tools/bin/ferretdb unless the stamp matches tools/ferretdb's inputs. */
export async function ensureFerretDB() {
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
