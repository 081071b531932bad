// Checks that a binary runs: servers are started on a free port and must answer
// (FerretDB a hand-encoded MongoDB hello), CLIs must print their version or help.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fail, lastLine } from './common.mjs';

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
export async function verifyServer(label, command, args, ready) {
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

export async function verifyFerretDB(bin) {
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

export function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export function verifyTemporalCli(bin) {
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0 || !/temporal version/i.test(run.stdout)) {
    fail(`${bin} --version failed: ${lastLine(run.stderr) || lastLine(run.stdout) || run.error?.message || `exit ${run.status}`}`);
  }
}

export function verifyRunsHelp(label, bin) {
  const run = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) fail(`${label} at ${bin} does not run: ${lastLine(run.stderr) || run.error?.message || `exit ${run.status}`}`);
}
