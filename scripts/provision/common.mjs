// Shared by the provision modules: .tools paths, errors and output, file and
// PATH helpers, and the lock that serialises installs between concurrent runs.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOOLS = path.join(ROOT, '.tools');
export const PATHS_FILE = path.join(TOOLS, 'paths.json');
const LOCK_FILE = path.join(TOOLS, 'provision.lock');

export class ProvisionError extends Error {}

export const fail = (message) => {
  throw new ProvisionError(message);
};
export const say = (message) => console.log(`provision: ${message}`);
export const rel = (p) => path.relative(ROOT, p) || '.';
const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function readOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

export function sha256(parts) {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

/** `name` on PATH, skipping .tools/ entries: those are ours and kept current below. */
export function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || path.resolve(dir).startsWith(TOOLS + path.sep)) continue;
    const file = path.join(dir, name);
    if (isExecutable(file)) return file;
  }
  return null;
}

export function fromEnv(variable) {
  const value = process.env[variable];
  if (!value) return null;
  const file = path.resolve(value);
  if (!isExecutable(file)) fail(`${variable}=${value} is not an executable file. Fix it or unset it.`);
  return file;
}

export function lastLine(text) {
  const lines = String(text ?? '').trim().split('\n').filter((l) => l.trim());
  return (lines.at(-1) ?? '').trim().slice(0, 300);
}

let lockHeld = false;

/** Serialises installs between concurrent runs; released when the process exits. */
export function lock() {
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
