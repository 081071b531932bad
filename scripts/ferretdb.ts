/** FerretDB (the MongoDB wire protocol on SQLite), the embedded read model's server. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { assertPortFree, freePort, runningServer, spawnManaged, startOrStop, toolPaths, waitUntil, type RunningServer } from './processes';

let ferretFlavour: { bin: string; wrapper: boolean } | null = null;

/**
 * tools/ferretdb (our wrapper) takes --sqlite-dir; an upstream `ferretdb` found
 * on PATH takes FerretDB's own flags. Told apart by their --help.
 */
function ferretdbArgs(bin: string, dataDir: string, port: number): string[] {
  if (ferretFlavour?.bin !== bin) {
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 10_000 });
    ferretFlavour = { bin, wrapper: `${help.stdout}${help.stderr}`.includes('sqlite-dir') };
  }
  const listen = `127.0.0.1:${port}`;
  return ferretFlavour.wrapper
    ? ['--listen-addr', listen, '--sqlite-dir', dataDir, '--log-level', 'warn']
    : [
        `--listen-addr=${listen}`,
        '--handler=sqlite',
        `--sqlite-url=file:${dataDir}/`,
        `--state-dir=${dataDir}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
      ];
}

async function mongoPing(uri: string): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1;
  } finally {
    await client.close();
  }
}

export async function startFerretDB(opts: {
  dataDir: string;
  /** Another build than the provisioned one (bench/scale.ts compares the unpatched build). */
  bin?: string;
  port?: number;
  logFile?: string;
  detached?: boolean;
}): Promise<RunningServer & { uri: string }> {
  const bin = opts.bin ?? toolPaths().ferretdb;
  if (!bin) throw new Error('FerretDB is not provisioned: run `npm run provision`');
  const port = opts.port ?? (await freePort());
  if (opts.port !== undefined) await assertPortFree(port);
  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });

  const proc = spawnManaged('ferretdb', bin, ferretdbArgs(bin, dataDir, port), {
    logFile: opts.logFile,
    detached: opts.detached,
  });
  const uri = `mongodb://127.0.0.1:${port}`;
  await startOrStop(proc, () => waitUntil(proc, `FerretDB on 127.0.0.1:${port}`, () => mongoPing(uri)));
  return { ...runningServer(proc, uri), uri };
}
