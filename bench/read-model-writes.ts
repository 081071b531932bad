/**
 * What a projection's commands cost the embedded FerretDB (issue #13):
 * `npm run bench:read-model-writes`. FerretDB pays per command and per field
 * it decodes or encodes, on one SQLite writer, so the dossier worker's
 * throughput is the CPU its projections take there. On a FerretDB of its own,
 * one client, 4 writes in flight, the same real views (test/support's March
 * scenario, every view of six dossiers) written and read back in each shape:
 *
 * - per deadline: a guarded replace and a change-record insert each (before issue #13);
 * - batched: the deadlines' replaces in one bulkWrite, their changes in one insertMany;
 * - the dossier document with its view as a document (before) or as JSON text (now),
 *   written by the guarded replace and read by `_id`.
 *
 * It reports FerretDB's CPU (utime + stime from /proc) per operation, and a
 * `ping`'s as the in-run baseline. Options: --rounds=3 --dossiers=40 (copies of
 * the scenario per round); BENCH_LOCK=<file> holds that lock while measuring.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { startFerretDB } from '../scripts/servers';
import { changeOf } from '../store/compliance-counts';
import { ensureIndexes } from '../store/db';
import type { DeadlineDoc } from '../store/documents';
import { marchScenario } from '../test/support/domain-views';
import type { DossierView } from '../domain/dossier';
import { holdLock } from './lock';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const ROUNDS = arg('rounds', 3);
const COPIES = arg('dossiers', 40);

/** Milliseconds of CPU the process has used. */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** The deadline records a projection writes of a view (the fields store/read-model.ts writes; their values do not matter here). */
function deadlinesOf(v: DossierView): DeadlineDoc[] {
  return v.deadlines.map((d) => ({
    _id: `${v.code}:${d.stage}`, dossierCode: v.code, version: v.version, stage: d.stage, owner: d.owner, agencyId: v.agencyId, procedureCode: v.procedureCode,
    district: 'Bãi Cháy', startedAt: new Date(d.startedAt), dueAt: new Date(d.dueAt), dueDay: d.dueAt.slice(0, 10), dueMonth: d.dueAt.slice(0, 7),
    revisedDueAt: d.revisedDueAt ? new Date(d.revisedDueAt) : null, completedAt: d.completedAt ? new Date(d.completedAt) : null, state: d.state, atRisk: d.atRisk,
    supplementWorkingDays: d.supplementWorkingDays, multipleSupplementRequests: v.multipleSupplementRequests, indexDueAt: null, dossierStatus: v.status,
  }));
}

const dossierDoc = (v: DossierView, asText: boolean) => ({ _id: v.code, version: v.version, status: v.status, agencyId: v.agencyId, ...(asText ? { viewJson: JSON.stringify(v) } : { view: v }) });
const olderThan = (d: { _id: string; version: number }) => ({ _id: d._id, version: { $lt: d.version } });

type Shape = { name: string; unit: string; run: (db: Db, v: DossierView) => Promise<number> };

const SHAPES: Shape[] = [
  {
    name: 'deadlines, per deadline: guarded replace + change insert each',
    unit: 'deadline',
    async run(db, v) {
      for (const d of deadlinesOf(v)) {
        await db.collection<DeadlineDoc>('deadlines').replaceOne(olderThan(d), d, { upsert: true });
        await db.collection('counts_changes').insertOne(changeOf(d) as never);
      }
      return v.deadlines.length;
    },
  },
  {
    name: 'deadlines, batched: one bulkWrite + one insertMany',
    unit: 'deadline',
    async run(db, v) {
      const ds = deadlinesOf(v);
      if (!ds.length) return 0;
      await db.collection<DeadlineDoc>('deadlines_b').bulkWrite(ds.map((d) => ({ replaceOne: { filter: olderThan(d), replacement: d, upsert: true } })), { ordered: true });
      await db.collection('counts_changes_b').insertMany(ds.map((d) => changeOf(d) as never), { ordered: false });
      return ds.length;
    },
  },
  { name: 'dossier guarded replace, view as a document', unit: 'write', run: async (db, v) => (await db.collection('dossiers').replaceOne(olderThan({ _id: v.code, version: v.version }) as never, dossierDoc(v, false) as never, { upsert: true }), 1) },
  { name: 'dossier guarded replace, view as text', unit: 'write', run: async (db, v) => (await db.collection('dossiers_t').replaceOne(olderThan({ _id: v.code, version: v.version }) as never, dossierDoc(v, true) as never, { upsert: true }), 1) },
  { name: 'dossier read by _id, view as a document', unit: 'read', run: async (db, v) => (await db.collection('dossiers').findOne({ _id: v.code } as never), 1) },
  { name: 'dossier read by _id, view as text', unit: 'read', run: async (db, v) => (await db.collection('dossiers_t').findOne({ _id: v.code } as never), 1) },
  { name: 'ping (baseline)', unit: 'command', run: async (db) => (await db.command({ ping: 1 }), 1) },
];

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-read-model-writes-'));
  const ferret = await startFerretDB({ dataDir: path.join(dir, 'ferretdb') });
  const client = new MongoClient(ferret.uri);
  const release = await holdLock(process.env.BENCH_LOCK);
  const loadBefore = os.loadavg();
  try {
    await client.connect();
    const scenario = marchScenario();
    const cost = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const db = client.db(`writes_${round}`);
      await ensureIndexes(db);
      for (const shape of SHAPES) {
        let units = 0;
        const before = cpuMs(ferret.pid);
        // Each dossier's views in order (as its projections come), four dossiers at a time.
        for (let copy = 0; copy < COPIES; copy += 4) {
          await Promise.all([0, 1, 2, 3].flatMap((k) => scenario.map(async (d) => {
            for (const v of d.views) {
              const n = await shape.run(db, { ...v, code: `${v.code}-${copy + k}` });
              units += n;
            }
          })));
        }
        cost.set(shape.name, [...(cost.get(shape.name) ?? []), (cpuMs(ferret.pid) - before) / units]);
      }
    }
    const ping = Math.min(...cost.get('ping (baseline)')!);
    const cpus = os.cpus();
    console.log(`- Machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}; load average ${loadBefore.map((l) => l.toFixed(1)).join(' / ')} before, ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} after (1/5/15 min)`);
    console.log(`- ${ROUNDS} rounds × ${COPIES} copies of the March scenario (${scenario.reduce((n, d) => n + d.views.length, 0)} views, ${scenario.reduce((n, d) => n + d.views.reduce((m, v) => m + v.deadlines.length, 0), 0)} deadline writes); the median round's FerretDB CPU\n`);
    console.log('| operation | FerretDB CPU ms per unit (median of rounds) | unit | × a ping |');
    console.log('|---|--:|---|--:|');
    for (const shape of SHAPES) {
      const xs = [...cost.get(shape.name)!].sort((a, b) => a - b);
      const median = xs[Math.floor(xs.length / 2)]!;
      console.log(`| ${shape.name} | ${median.toFixed(2)} | ${shape.unit} | ${(median / ping).toFixed(0)}× |`);
    }
  } finally {
    release();
    await client.close();
    await ferret.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
