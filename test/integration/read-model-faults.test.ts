/**
 * Fault injection on the read model (FerretDB, real writes through
 * `writeProjection`): every write delivered twice, writes out of order, a
 * crash between the deadline writes and the dossier write, then the
 * reconciliation pass. The figures must equal the ones worked out by hand, and
 * the read model the workflow's view. The figures are checked twice: scanned
 * from the deadline records, and from the compliance counts as an aggregator
 * builds them from the change records alone.
 *
 * First with views from the pure lifecycle (test/support/domain-views.ts, a
 * known March 2026 scenario), then with real dossier workflows on the dev
 * server, reconciled by the reconciliation workflow through a worker.
 */
import fc from 'fast-check';
import type { Db, MongoClient } from 'mongodb';
import { addCalendarDays, dayOfWeek, formatInstant, localDate, parseInstant } from '../../domain/calendar';
import type { DossierView } from '../../domain/dossier';
import type { EventCommand } from '../../domain/events';
import { complianceSummary, countedRecords, scanSummary, type Summary, type SummaryQuery } from '../../store/compliance';
import { COUNTS_COLLECTIONS, CountsAggregator, countsReady, countsState, countsSummary } from '../../store/compliance-counts';
import { COLLECTIONS } from '../../store/db';
import { backfillListKeys } from '../../store/dossier-list';
import { findDossier, writeProjection, type DeadlineDoc } from '../../store/read-model';
import { reconcileAll, reconcileBatch, type ReconcileCounts, type ViewSource } from '../../store/reconcile';
import { addCounts, EMPTY_COUNTS } from '../../workflows/contracts';
import { ReferenceData } from '../../store/reference-data';
import { applyEventUpdate, dossierViewQuery } from '../../workflows/messages';
import type { ReconcileResult } from '../../workflows/contracts';
import { marchScenario, instant, SELF } from '../support/domain-views';
import { HA_LONG_HOME, submission } from '../support/fixtures';
import { MaintenanceWorker } from '../support/maintenance';
import { freshDatabase } from '../support/mongo';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';
import { legalCounts } from '../support/compliance-figures';

/**
 * A Db whose document writes after the first `writes` fail, as a process dying
 * there would leave it: `writeProjection` writes the deadlines, then the
 * dossier, so `writes` = the number of deadlines stops right before the
 * dossier. `replaceOne` counts replaces (one a statement of a `bulkWrite`),
 * `insertOne` inserts (one a document of an `insertMany`); a batch that
 * reaches the limit writes its first statements, then dies.
 */
function crashAfter(db: Db, writes: number, operation: 'replaceOne' | 'insertOne' = 'replaceOne'): Db {
  let done = 0;
  const batch = operation === 'replaceOne' ? 'bulkWrite' : 'insertMany';
  const bind = <T extends object>(target: T, prop: string | symbol) => {
    const v = Reflect.get(target, prop) as unknown;
    return typeof v === 'function' ? v.bind(target) : v;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop !== 'collection') return bind(target, prop);
      return (...args: Parameters<Db['collection']>) => {
        const col = target.collection(...args);
        return new Proxy(col, {
          get(c, p) {
            if (p === batch) {
              return async (items: unknown[], options?: object) => {
                const room = Math.max(0, writes - done);
                done += items.length;
                if (items.length <= room) return (c[batch] as (...x: unknown[]) => Promise<unknown>)(items, options);
                if (room > 0) await (c[batch] as (...x: unknown[]) => Promise<unknown>)(items.slice(0, room), options);
                throw new Error('injected crash');
              };
            }
            if (p !== operation) return bind(c, p);
            return (...a: unknown[]) => {
              if (done++ >= writes) return Promise.reject(new Error('injected crash'));
              return (c[operation] as (...x: unknown[]) => Promise<unknown>)(...a);
            };
          },
        });
      };
    },
  });
}

const byStage = <T extends { stage: string }>(a: T, b: T) => (a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : 0);

/** The read model holds exactly these views: dossier docs and their deadline docs, nothing else. */
async function expectReadModelIs(db: Db, views: DossierView[]): Promise<void> {
  for (const v of views) {
    const doc = await findDossier(db, v.code);
    expect({ code: v.code, version: doc?.version, status: doc?.status }).toEqual({ code: v.code, version: v.version, status: v.status });
    expect(doc!.view).toEqual(JSON.parse(JSON.stringify(v)));
    const deadlines = await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find({ dossierCode: v.code }).toArray();
    expect(
      deadlines
        .map((d) => ({ stage: d.stage, version: d.version, state: d.state, dueAt: instant(d.dueAt), completedAt: instant(d.completedAt), dossierStatus: d.dossierStatus }))
        .sort(byStage),
    ).toEqual(
      v.deadlines
        .map((d) => ({ stage: d.stage, version: v.version, state: d.state, dueAt: d.dueAt, completedAt: d.completedAt, dossierStatus: v.status }))
        .sort(byStage),
    );
  }
  expect(await db.collection(COLLECTIONS.dossiers).countDocuments()).toBe(views.length);
  expect(await db.collection(COLLECTIONS.deadlines).countDocuments()).toBe(views.reduce((n, v) => n + v.deadlines.length, 0));
}

const sourceOf = (views: DossierView[]): ViewSource => {
  const byCode = new Map(views.map((v) => [v.code, v]));
  return { view: async (code) => byCode.get(code) ?? null };
};

describe('views from the pure lifecycle', () => {
  const scenario = marchScenario();
  const [f1, f2, f3, f4, f5, f6] = scenario;
  const finals = scenario.map((d) => d.view);
  const everyWrite = scenario.flatMap((d) => d.views);
  const MARCH = { from: '2026-03-01', to: '2026-03-31' };
  const clients: MongoClient[] = [];

  async function fresh(label: string): Promise<Db> {
    const { client, db } = await freshDatabase(label);
    clients.push(client);
    return db;
  }
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  /** The figures of the scenario table (test/support/domain-views.ts), worked out by hand. */
  async function expectHandFiguresFrom(summary: (q: SummaryQuery) => Promise<Summary>): Promise<void> {
    const stage = await summary({ ...MARCH, groupBy: 'stage' });
    expect(stage.rows).toMatchObject([
      { key: 'delivery', ...legalCounts(1, 1, 0, 0, 0, 1) },
      { key: 'handoff', ...legalCounts(6, 3, 1, 1, 1, 3 / 5) },
      { key: 'pickup', ...legalCounts(1, 1, 0, 0, 0, 1) },
      { key: 'processing', ...legalCounts(3, 1, 0, 1, 1, 1 / 2) },
    ]);
    expect(stage.totals).toMatchObject(legalCounts(11, 6, 1, 2, 2, 6 / 9));
    const agency = await summary({ ...MARCH, groupBy: 'agency' });
    expect(agency.rows).toMatchObject([
      { key: 'HL-TNMT', ...legalCounts(4, 1, 1, 0, 2, 1 / 4) },
      { key: 'HL-UBND', ...legalCounts(6, 4, 0, 2, 0, 1) },
      { key: 'QN-STP', ...legalCounts(1, 1, 0, 0, 0, 1) },
    ]);
    const day = await summary({ ...MARCH, groupBy: 'day' });
    expect(day.rows.map((r) => [r.key, r.total])).toEqual([
      ['2026-03-02', 1],
      ['2026-03-03', 2],
      ['2026-03-04', 2],
      ['2026-03-05', 2],
      ['2026-03-06', 1],
      ['2026-03-09', 1],
      ['2026-03-11', 1],
      ['2026-03-19', 1],
    ]);
  }

  /** From the records, then from the counts an aggregator (restarted from what is stored) applies from the change records. */
  async function expectHandFigures(db: Db): Promise<void> {
    await expectHandFiguresFrom((q) => scanSummary(db, q));
    const aggregator = new CountsAggregator(db);
    await aggregator.load();
    while ((await aggregator.pass()).read > 0);
    await expectHandFiguresFrom((q) => countsSummary(db, q));
    // The change records alone were enough: checking the counts against the records corrects nothing.
    expect(await aggregator.verify(countedRecords(db))).toMatchObject({ corrected: 0 });
  }

  test('every write delivered twice, one after the other or both at once, leaves exactly the final views', async () => {
    const db = await fresh('twice');
    for (const [i, v] of everyWrite.entries()) {
      if (i % 2 === 0) {
        await writeProjection(db, v);
        await writeProjection(db, v);
      } else {
        // A retried activity whose first attempt is still running: two upserts race.
        await Promise.all([writeProjection(db, v), writeProjection(db, v)]);
      }
    }
    await expectReadModelIs(db, finals);
    await expectHandFigures(db);
    // Nothing to repair; the non-terminal ones (F2, F4, F5, F6) are still checked against their views.
    expect(await reconcileAll(db, sourceOf(finals))).toEqual({ checked: 6, candidates: 4, repaired: 0, orphans: 0, notFound: 0, failed: 0 });
  });

  test('the first write of a dossier racing a newer one: the newer one is kept, whichever insert wins', async () => {
    const db = await fresh('first-race');
    // A retried first projection still running while the next one lands.
    for (const { views } of scenario) {
      const [first, last] = [views[0]!, views[views.length - 1]!];
      for (let round = 0; round < 5; round++) {
        await db.collection(COLLECTIONS.dossiers).deleteMany({});
        await db.collection(COLLECTIONS.deadlines).deleteMany({});
        await Promise.all(round % 2 ? [writeProjection(db, first), writeProjection(db, last)] : [writeProjection(db, last), writeProjection(db, first)]);
        expect((await findDossier(db, last.code))?.version).toBe(last.version);
      }
    }
  });

  test('one batch of deadline writes: an older record is replaced, a newer one kept, a missing one inserted, every change recorded once', async () => {
    const db = await fresh('batch');
    const v = f2.view;
    expect(v.deadlines.length).toBeGreaterThanOrEqual(3);
    const records = async () => (await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find({ dossierCode: v.code }).toArray()).map((d) => [d.stage, d.version, d.state]).sort();
    await writeProjection(db, f2.views.at(-2)!);
    const [older, newer, missing] = v.deadlines.map((d) => `${v.code}:${d.stage}`);
    // One record already at a later version (another write got there first), one never written.
    await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).updateOne({ _id: newer! }, { $set: { version: v.version + 1, state: 'cancelled' as never } });
    await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).deleteOne({ _id: missing! });
    await writeProjection(db, v);
    const byId = new Map((await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find({ dossierCode: v.code }).toArray()).map((d) => [d._id, d]));
    expect(byId.get(older!)?.version).toBe(v.version);
    expect(byId.get(newer!)).toMatchObject({ version: v.version + 1, state: 'cancelled' });
    expect(byId.get(missing!)?.version).toBe(v.version);
    // The same batch again (a retried activity) changes nothing and records no second change.
    const before = await records();
    const changes = await db.collection(COUNTS_COLLECTIONS.changes).countDocuments({ id: { $in: [older, newer, missing] } });
    expect(changes).toBe(3 + (f2.views.at(-2)!.deadlines.length));
    await writeProjection(db, v);
    expect(await records()).toEqual(before);
    expect(await db.collection(COUNTS_COLLECTIONS.changes).countDocuments({ id: { $in: [older, newer, missing] } })).toBe(changes);
  });

  test('a crash in the middle of a deadline batch: the retried projection writes the rest', async () => {
    const db = await fresh('batch-crash');
    for (const v of f2.views.slice(0, -1)) await writeProjection(db, v);
    await expect(writeProjection(crashAfter(db, 1), f2.view)).rejects.toThrow('injected crash');
    const versions = async () => (await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find({ dossierCode: f2.code }).toArray()).map((d) => d.version);
    expect((await versions()).filter((x) => x === f2.view.version)).toHaveLength(1);
    await writeProjection(db, f2.view);
    expect(await versions()).toEqual(f2.view.deadlines.map(() => f2.view.version));
    expect((await findDossier(db, f2.code))?.version).toBe(f2.view.version);
  });

  test('a dossier document from before the view was stored as text is read alike and reconciled', async () => {
    const db = await fresh('view-doc');
    for (const d of scenario) for (const v of d.views) await writeProjection(db, v);
    const stored = await db.collection(COLLECTIONS.dossiers).findOne({ _id: f1.code as never });
    expect(typeof stored?.viewJson).toBe('string');
    expect(stored?.view).toBeUndefined();
    // The older form: the view as a document, no stages beside it.
    await db.collection(COLLECTIONS.dossiers).updateOne({ _id: f1.code as never }, { $set: { view: f1.view }, $unset: { viewJson: '', deadlineStages: '' } });
    await expectReadModelIs(db, finals);
    // A terminal dossier is checked through its stages: in that form, from the view's deadlines.
    await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).deleteOne({ _id: `${f1.code}:processing` });
    expect(await reconcileAll(db, sourceOf(finals))).toMatchObject({ repaired: 1, failed: 0 });
    await expectReadModelIs(db, finals);
  });

  test('a same-version view that differs (issue #13) is repaired by one batch, deadlines too; same content and hashless documents are left', async () => {
    const db = await fresh('same-version');
    const shift = (s: string | null) => (s === null ? null : formatInstant(parseInstant(s) - 60_000));
    // F1 ended just now (a terminal dossier is a candidate for a few hours after its end); F2 is open.
    const now = formatInstant(Math.floor(Date.now() / 1000) * 1000);
    const truth = finals.map((v) => (v.code === f1.code ? { ...v, updatedAt: now } : v));
    const t1 = truth.find((v) => v.code === f1.code)!;
    // What the run that wrote the projection saw: the same versions, a minute earlier.
    const stale = (v: DossierView): DossierView => ({ ...v, updatedAt: shift(v.updatedAt)!, deadlines: v.deadlines.map((d) => ({ ...d, completedAt: shift(d.completedAt) })) });
    expect(t1.deadlines.some((d) => d.completedAt !== null)).toBe(true);
    for (const v of truth) await writeProjection(db, v.code === f1.code || v.code === f2.code ? stale(v) : v);
    // F4 from before the hash: other content at its version, compared by version only, as before.
    const staleF4 = { ...f4.view, updatedAt: shift(f4.view.updatedAt)! };
    await db.collection(COLLECTIONS.dossiers).updateOne({ _id: f4.code as never }, { $set: { viewJson: JSON.stringify(staleF4) }, $unset: { viewHash: '' } });
    // The live path's guard keeps a same-version document.
    expect(await writeProjection(db, t1)).toEqual({ written: false });
    const unchanged = await db.collection(COLLECTIONS.dossiers).findOne({ _id: f5.code as never });

    expect(await reconcileBatch(db, sourceOf(truth), { after: null, batchSize: 100 })).toEqual({ checked: 6, candidates: 5, repaired: 2, orphans: 0, notFound: 0, failed: 0, next: null });
    await expectReadModelIs(db, truth.map((v) => (v.code === f4.code ? staleF4 : v)));
    expect(await db.collection(COLLECTIONS.dossiers).findOne({ _id: f5.code as never })).toEqual(unchanged);
    expect((await db.collection(COLLECTIONS.dossiers).findOne({ _id: f4.code as never }))?.viewHash).toBeUndefined();
    expect(await reconcileAll(db, sourceOf(truth))).toMatchObject({ candidates: 5, repaired: 0, failed: 0 });
  });

  test('writes out of order, in any order, end at the final views', async () => {
    const db = await fresh('order');
    const clear = async () => {
      await db.collection(COLLECTIONS.dossiers).deleteMany({});
      await db.collection(COLLECTIONS.deadlines).deleteMany({});
    };
    for (const v of [...everyWrite].reverse()) await writeProjection(db, v);
    await expectReadModelIs(db, finals);
    await expectHandFigures(db);

    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(everyWrite, { minLength: everyWrite.length, maxLength: everyWrite.length }), async (order) => {
        await clear();
        for (const v of order) await writeProjection(db, v);
        await expectReadModelIs(db, finals);
      }),
      { numRuns: 6 },
    );
    await expectHandFigures(db);
  });

  /**
   * Every dossier written up to its previous view, then:
   * F1 (terminal) loses a deadline doc; F2's last write dies after two of its
   * three deadlines (its processing deadline stays open); F3's last write dies
   * after the deadlines, before the dossier doc says withdrawn; F6's very first
   * write dies before its dossier doc exists. F4 and F5 are intact.
   */
  async function crash(db: Db): Promise<void> {
    for (const d of [f1, f2, f3, f4, f5]) for (const v of d.views.slice(0, -1)) await writeProjection(db, v);
    await writeProjection(db, f1.view);
    await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).deleteOne({ _id: `${f1.code}:processing` });
    await expect(writeProjection(crashAfter(db, 2), f2.view)).rejects.toThrow('injected crash');
    await expect(writeProjection(crashAfter(db, f3.view.deadlines.length), f3.view)).rejects.toThrow('injected crash');
    await writeProjection(db, f4.view);
    await writeProjection(db, f5.view);
    await expect(writeProjection(crashAfter(db, f6.views[0]!.deadlines.length), f6.views[0]!)).rejects.toThrow('injected crash');
  }

  test.each([1, 2, 4, 200])('a crash between the deadline writes and the dossier write, then reconciliation (batches of %i)', async (batchSize) => {
    const db = await fresh(`crash${batchSize}`);
    await crash(db);
    // Wrong before: F1's processing deadline is gone and F2's still says open.
    const before = await complianceSummary(db, { ...MARCH, groupBy: 'stage' });
    expect(before.rows.find((r) => r.key === 'processing')).toMatchObject(legalCounts(2, 0, 0, 2, 0, null));
    expect(await findDossier(db, f6.code)).toBeNull();
    expect((await findDossier(db, f3.code))?.status).toBe('in_transit_to_agency');

    const report = await reconcileAll(db, sourceOf(finals), batchSize);
    // Candidates: F2, F4, F5 (non-terminal), F3 (its doc is behind, non-terminal), F1 (a deadline missing), F6 (orphan).
    expect(report).toEqual({ checked: 5, candidates: 6, repaired: 4, orphans: 1, notFound: 0, failed: 0 });
    await expectReadModelIs(db, finals);
    await expectHandFigures(db);
    // A second pass finds nothing left to do.
    expect(await reconcileAll(db, sourceOf(finals), batchSize)).toEqual({ checked: 6, candidates: 4, repaired: 0, orphans: 0, notFound: 0, failed: 0 });
  });

  /** A pass batch by batch from `after`, with the cursors it handed out. */
  async function passFrom(db: Db, after: string | null, batchSize: number): Promise<{ totals: ReconcileCounts; cursors: string[] }> {
    let totals = EMPTY_COUNTS;
    const cursors: string[] = [];
    for (let cursor = after; ; ) {
      const { next, ...counts } = await reconcileBatch(db, sourceOf(finals), { after: cursor, batchSize });
      totals = addCounts(totals, counts);
      if (next === null) return { totals, cursors };
      cursors.push(next);
      cursor = next;
    }
  }

  test('a pass walks the recorded list hours, one cursor per batch, orphans in their hour, and a dossier without a list hour by its deadlines', async () => {
    const db = await fresh('hour-walk');
    await crash(db);
    // A dossier document from before the list keys (the worker's backfill has not reached it).
    await db.collection(COLLECTIONS.dossiers).updateOne({ _id: f4.code as never }, { $unset: { listHour: '' } });
    const keyed = (await db.collection(COLLECTIONS.dossiers).find({ listHour: { $exists: true } }).toArray()).map((d) => `hour:${d.listHour as string}|${d._id as unknown as string}`);
    expect(keyed).toHaveLength(4);
    // F6's deadline docs, written before the crash, carry its list hour.
    const orphanHours = await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).distinct('listHour', { dossierCode: f6.code });
    expect(orphanHours).toHaveLength(1);
    const f4Hours = await db.collection<DeadlineDoc>(COLLECTIONS.deadlines).distinct('listHour', { dossierCode: f4.code });
    const { totals, cursors } = await passFrom(db, null, 1);
    expect(totals).toEqual({ checked: 5, candidates: 6, repaired: 4, orphans: 1, notFound: 0, failed: 0 });
    // Batches of 1: one per dossier (F1, F2, F3, F5; F4 in its deadlines' hour) or orphan (F6), by hour then code;
    // no last batch over the whole collections.
    expect(cursors).toEqual([...keyed, `hour:${f4Hours[0] as string}|${f4.code}`, `hour:${orphanHours[0] as string}|${f6.code}`].sort());
    await expectReadModelIs(db, finals);
    // Without a list hour on its deadline docs either (all from before the keys), F4 waits for the startup backfill.
    await db.collection(COLLECTIONS.dossiers).updateOne({ _id: f4.code as never }, { $unset: { listHour: '' } });
    await db.collection(COLLECTIONS.deadlines).updateMany({ dossierCode: f4.code }, { $unset: { listHour: '' } });
    expect(await reconcileAll(db, sourceOf(finals), 1)).toMatchObject({ checked: 5 });
    await backfillListKeys(db);
    expect(await reconcileAll(db, sourceOf(finals), 1)).toEqual({ checked: 6, candidates: 4, repaired: 0, orphans: 0, notFound: 0, failed: 0 });
  });

  /** The database as a pass sees it, counting its reads of dossier hour buckets. */
  function countingHourReads(db: Db): { db: Db; reads: () => number } {
    let reads = 0;
    const counted = new Proxy(db, {
      get(target, prop) {
        if (prop !== 'collection') return Reflect.get(target, prop, target) as unknown;
        return (name: string) => {
          const col = target.collection(name);
          if (name !== COLLECTIONS.dossiers) return col;
          return new Proxy(col, {
            get(c, p) {
              const v = Reflect.get(c, p, c) as unknown;
              if (p !== 'find' || typeof v !== 'function') return typeof v === 'function' ? v.bind(c) : v;
              return (filter: Record<string, unknown>, ...rest: unknown[]) => {
                if (typeof filter?.listHour === 'string') reads++;
                return (v as (...a: unknown[]) => unknown).call(c, filter, ...rest);
              };
            },
          });
        };
      },
    });
    return { db: counted, reads: () => reads };
  }

  test('a pass reads only the hours that hold dossiers; days and deadline docs from before the hour records are still walked whole', async () => {
    const db = await fresh('recorded-hours');
    for (const v of finals) await writeProjection(db, v);
    const hours = new Set((await db.collection(COLLECTIONS.dossiers).find({}).toArray()).map((d) => d.listHour as string));
    const days = new Set([...hours].map((h) => h.slice(0, 10)));
    expect(await reconcileAll(db, sourceOf(finals), 2)).toEqual({ checked: 6, candidates: 4, repaired: 0, orphans: 0, notFound: 0, failed: 0 });
    // One batch: each hour bucket read once.
    const recorded = countingHourReads(db);
    expect(await reconcileAll(recorded.db, sourceOf(finals))).toEqual({ checked: 6, candidates: 4, repaired: 0, orphans: 0, notFound: 0, failed: 0 });
    expect(recorded.reads()).toBe(hours.size);
    // As an older version left them: days without hour records, deadline docs without a list hour.
    await db.collection(COLLECTIONS.dossierDays).updateMany({}, { $unset: { hours: '' } });
    await db.collection(COLLECTIONS.dossierHours).deleteMany({});
    await db.collection(COLLECTIONS.deadlines).updateMany({}, { $unset: { listHour: '' } });
    expect(await reconcileAll(db, sourceOf(finals), 2)).toEqual({ checked: 6, candidates: 4, repaired: 0, orphans: 0, notFound: 0, failed: 0 });
    const legacy = countingHourReads(db);
    expect(await reconcileAll(legacy.db, sourceOf(finals))).toEqual({ checked: 6, candidates: 4, repaired: 0, orphans: 0, notFound: 0, failed: 0 });
    expect(legacy.reads()).toBe(24 * days.size);
    await expectReadModelIs(db, finals);
  });

  test('a pass started by code ranges (its cursor a dossier code) finishes by code ranges', async () => {
    const db = await fresh('code-cursor');
    await crash(db);
    const codes = finals.map((v) => v.code).sort();
    // The cursor of an earlier code-range batch that ended at the first code: the others are still to do.
    const { totals, cursors } = await passFrom(db, codes[0]!, 2);
    expect(cursors.every((c) => codes.includes(c))).toBe(true);
    expect(totals.checked + totals.orphans).toBe(codes.length - 1);
    expect(totals.failed).toBe(0);
    // A pass from the start then finds everything exact.
    await passFrom(db, null, 200);
    await expectReadModelIs(db, finals);
    expect(await reconcileAll(db, sourceOf(finals))).toEqual({ checked: 6, candidates: 4, repaired: 0, orphans: 0, notFound: 0, failed: 0 });
  });

  test('a crash between a deadline write and its change record: reconciliation rewrites it, and the counts are exact without a verification', async () => {
    const db = await fresh('change-crash');
    for (const d of scenario) for (const v of d.views.slice(0, -1)) await writeProjection(db, v);
    for (const d of [f1, f3, f4, f5, f6]) await writeProjection(db, d.view);
    // F2's last write: its deadlines are written, then the process dies before their change records
    // (after its two inserts before them: the hour and day records, unknown to this handle, already there).
    await expect(writeProjection(crashAfter(db, 2, 'insertOne'), f2.view)).rejects.toThrow('injected crash');
    expect(await reconcileAll(db, sourceOf(finals))).toMatchObject({ repaired: 1, failed: 0 });
    await expectReadModelIs(db, finals);
    await expectHandFigures(db);
  });

  test('a view that cannot be read is counted and skipped; a dossier without a workflow is left as it is', async () => {
    const db = await fresh('unreadable');
    await crash(db);
    const source: ViewSource = {
      async view(code) {
        if (code === f2.code) throw new Error('query timed out');
        if (code === f3.code) return null;
        return sourceOf(finals).view(code);
      },
    };
    const report = await reconcileAll(db, source);
    expect(report).toEqual({ checked: 5, candidates: 6, repaired: 2, orphans: 1, notFound: 1, failed: 1 });
    expect((await findDossier(db, f1.code))?.version).toBe(f1.view.version);
    expect((await findDossier(db, f6.code))?.version).toBe(f6.view.version);
    expect((await findDossier(db, f2.code))?.version).toBe(f2.views.at(-2)!.version);
    // The next pass, with the workflows answering, finishes the job.
    expect(await reconcileAll(db, sourceOf(finals))).toMatchObject({ repaired: 2, failed: 0 });
    await expectReadModelIs(db, finals);
  });

  /**
   * Two first inserts of the same document racing each other can lose the newer one:
   * `writeProjection` takes the duplicate key for "a newer version is there" (store/read-model.ts).
   * Whatever such a race leaves, one pass of reconciliation afterwards makes it exact.
   */
  test('writes all at once, in any order, alongside reconciliation passes: one pass afterwards and the read model is exact', async () => {
    const db = await fresh('concurrent');
    const live = [...everyWrite, ...everyWrite.filter((_, i) => i % 3 === 0)].reverse();
    await Promise.all([reconcileAll(db, sourceOf(finals), 2), ...live.map((v) => writeProjection(db, v)), reconcileAll(db, sourceOf(finals), 3)]);
    const after = await reconcileAll(db, sourceOf(finals));
    expect(after).toMatchObject({ checked: 6, failed: 0, notFound: 0 });
    await expectReadModelIs(db, finals);
    await expectHandFigures(db);
    expect(await reconcileAll(db, sourceOf(finals))).toMatchObject({ repaired: 0 });
  });

  test('reconciliation passes running alongside live projections (some delivered twice) leave the read model exact', async () => {
    const db = await fresh('alongside');
    // As in the workflow: a state is committed, so a query sees it, before its projection is written;
    // each dossier's projections are written one after the other, dossiers in parallel.
    const current = new Map<string, DossierView>();
    const source: ViewSource = { view: async (code) => current.get(code) ?? null };
    let liveDone = false;
    const live = Promise.all(
      scenario.map(async (d) => {
        for (const [i, v] of d.views.entries()) {
          current.set(v.code, v);
          await writeProjection(db, v);
          if (i % 3 === 0) await writeProjection(db, v); // a retried activity
        }
      }),
    ).finally(() => {
      liveDone = true;
    });
    const passes: ReconcileCounts[] = [];
    const reconciling = async (batchSize: number) => {
      while (!liveDone) passes.push(await reconcileAll(db, source, batchSize));
    };
    await Promise.all([live, reconciling(1), reconciling(3)]);
    expect(passes.length).toBeGreaterThan(0);
    expect(passes.every((p) => p.failed === 0 && p.notFound === 0)).toBe(true);
    await expectReadModelIs(db, finals);
    await expectHandFigures(db);
  });
});

describe('real dossier workflows on the dev server, reconciled by the workflow', () => {
  let sys: System;
  let maintenance: MaintenanceWorker;

  beforeAll(async () => {
    sys = await System.start('faults');
    // Weekends-only calendars: the dues below depend on the weekday only.
    const refs = new ReferenceData(sys.db);
    const year = Number(localDate(Date.now()).slice(0, 4));
    for (const y of [year - 1, year, year + 1]) await refs.putCalendar({ year: y, holidays: [], workingDays: [] });
    maintenance = await MaintenanceWorker.start({ connection: sys.nativeConnection, temporal: sys.temporal, db: sys.db });
  }, 120_000);
  afterAll(async () => {
    await maintenance?.stop();
    await sys?.stop();
  });

  const at = (day: string, offset: number, hhmm: string) => `${addCalendarDays(day, offset)}T${hhmm}:00+07:00`;
  const query = (code: string) => sys.dossiers.handle(code).query(dossierViewQuery) as Promise<DossierView>;
  const event = (code: string, actor: EventCommand['actor'], ev: EventCommand['event'], occurredAt: string) =>
    sys.dossiers.handle(code).executeUpdate(applyEventUpdate, { args: [{ event: ev, actor, occurredAt }] });
  const submit = async (over: Parameters<typeof submission>[0]) => {
    const body = submission({ services: { collect: false, deliver: true }, pickupAddress: undefined, delivery: { method: 'home', address: HA_LONG_HOME }, ...over });
    const res = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body });
    expect(res.status).toBe(201);
    return body.code;
  };
  /** The read model has caught up with the workflow (same version on the dossier and every deadline). */
  const settled = async (code: string, done: (v: DossierView) => boolean) => {
    const v = await pollUntil(
      async () => {
        const view = await query(code);
        const doc = await findDossier(sys.db, code);
        const dls = await sys.db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find({ dossierCode: code }).toArray();
        return { view, ok: done(view) && doc?.version === view.version && dls.length === view.deadlines.length && dls.every((d) => d.version === view.version) };
      },
      (r) => r.ok,
      150,
    );
    expect(v.ok).toBe(true);
    return v.view;
  };

  test('a lost deadline doc, a crash between writes and an orphan are repaired; the figures are the hand-computed ones', async () => {
    // Three weeks back from this week's Monday: every due below has passed.
    let monday = localDate(Date.now());
    while (dayOfWeek(monday) !== 1) monday = addCalendarDays(monday, -1);
    monday = addCalendarDays(monday, -21);
    const agencyOf = (agencyId: string): EventCommand['actor'] => ({ role: 'agency', id: `desk-${agencyId}`, agencyId });

    // D1: handoff met (due end of Monday), processing met (J+3, end of Thursday), delivery late (J+1 from Wednesday, attempted now): delivered.
    const d1 = await submit({ procedureCode: '2.000720', agencyId: 'HL-UBND', submittedAt: at(monday, 0, '09:15') });
    await event(d1, agencyOf('HL-UBND'), { type: 'agency.received' }, at(monday, 0, '10:00'));
    await event(d1, agencyOf('HL-UBND'), { type: 'agency.completed', outcome: 'approved' }, at(monday, 2, '10:00'));
    const out = await pollUntil(() => query(d1), (v) => v.status === 'out_for_delivery' && v.job !== null);
    const courier: EventCommand['actor'] = { role: 'courier', id: 'c', courierId: out.job!.courierId ?? 'HL-BT01' };
    // Lifecycle rules 2: a courier report may not predate its job, created when the workflow took the
    // (backdated) completion, i.e. now: the delivery is reported now, after its due, so it is late.
    await event(d1, courier, { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF }, formatInstant(Date.now()));
    // D2: handoff met; processing (J+10, end of the second Monday after) overdue.
    const d2 = await submit({ procedureCode: '1.001234', agencyId: 'HL-TNMT', submittedAt: at(monday, 0, '09:15') });
    const d2Received = await event(d2, agencyOf('HL-TNMT'), { type: 'agency.received' }, at(monday, 0, '10:00'));
    // D3: withdrawn before its handoff due: met, and terminal.
    const d3 = await submit({ procedureCode: '2.000488', agencyId: 'QN-STP', submittedAt: at(monday, 0, '09:15') });
    await event(d3, { role: 'portal', id: 'portal' }, { type: 'citizen.withdrawn', reason: 'no longer needed' }, at(monday, 0, '11:00'));

    await settled(d1, (v) => v.status === 'delivered');
    const d2View = await settled(d2, (v) => v.deadlines.some((d) => d.stage === 'processing' && d.state === 'overdue'));
    await settled(d3, (v) => v.status === 'withdrawn');
    // D1 and D3 end with one more projection of their final view: let them finish before breaking anything.
    for (const code of [d1, d3]) {
      const status = await pollUntil(async () => (await sys.dossiers.handle(code).describe()).status.name, (s) => s === 'COMPLETED', 150);
      expect(status).toBe('COMPLETED');
    }
    const window = { from: monday, to: localDate(Date.now()) };
    // The summary reads the counts, which the aggregator keeps from the projection's change records.
    await sys.countsSettled({ verify: false });
    expect(await countsReady(sys.db)).toBe(true);
    const handFigures = async () => {
      const stage = await complianceSummary(sys.db, { ...window, groupBy: 'stage' });
      expect(stage.rows).toMatchObject([
        { key: 'delivery', ...legalCounts(1, 0, 1, 0, 0, 0) },
        { key: 'handoff', ...legalCounts(3, 3, 0, 0, 0, 1) },
        { key: 'processing', ...legalCounts(2, 1, 0, 0, 1, 1 / 2) },
      ]);
      expect(stage.totals).toMatchObject(legalCounts(6, 4, 1, 0, 1, 4 / 6));
      const agency = await complianceSummary(sys.db, { ...window, groupBy: 'agency' });
      expect(agency.rows).toMatchObject([
        { key: 'HL-TNMT', ...legalCounts(2, 1, 0, 0, 1, 1 / 2) },
        { key: 'HL-UBND', ...legalCounts(3, 2, 1, 0, 0, 2 / 3) },
        { key: 'QN-STP', ...legalCounts(1, 1, 0, 0, 0, 1) },
      ]);
    };
    await handFigures();

    // Faults. D1 (terminal) loses its processing deadline doc.
    await sys.db.collection<DeadlineDoc>(COLLECTIONS.deadlines).deleteOne({ _id: `${d1}:processing` });
    // D2: back to the view its receipt produced, then the latest write dies after its first deadline.
    await sys.db.collection(COLLECTIONS.dossiers).deleteOne({ _id: d2 as never });
    await sys.db.collection(COLLECTIONS.deadlines).deleteMany({ dossierCode: d2 });
    await writeProjection(sys.db, d2Received);
    await expect(writeProjection(crashAfter(sys.db, 1), d2View)).rejects.toThrow('injected crash');
    // D3 loses its dossier doc: its deadline doc is an orphan.
    await sys.db.collection(COLLECTIONS.dossiers).deleteOne({ _id: d3 as never });
    // A read-model dossier with no workflow behind it.
    const ghost = `GHOST-${d2}`;
    await writeProjection(sys.db, { ...d2Received, code: ghost, deadlines: [] });

    // The records are wrong now: D1's processing deadline is gone, D2's is back to open.
    const processingBefore = (await scanSummary(sys.db, { ...window, groupBy: 'stage' })).rows.find((r) => r.key === 'processing');
    expect(processingBefore).toMatchObject(legalCounts(1, 0, 0, 1, 0, null));
    // The counts apply only newer versions, so the faults did not reach them.
    await sys.countsSettled({ verify: false });
    await handFigures();

    const verifiedBefore = (await countsState(sys.db))!.verifiedAt;
    const report = await sys.temporal.workflow.execute('reconcileReadModelWorkflow', {
      taskQueue: maintenance.taskQueue,
      workflowId: `reconcile-${d1}`,
      args: [{ batchSize: 2 }],
    });
    // Entries: D1, D2, ghost and the orphan D3 in its hour (2 batches of 2, then one that finds the end);
    // candidates: D1 (inconsistent), D2 and ghost (non-terminal), D3 (orphan).
    expect(report).toEqual<ReconcileResult>({ checked: 3, candidates: 4, repaired: 3, orphans: 1, notFound: 1, failed: 0, batches: 3 });

    for (const code of [d1, d2, d3]) {
      const view = await query(code);
      const doc = await findDossier(sys.db, code);
      expect(doc?.view).toEqual(view);
      const dls = await sys.db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find({ dossierCode: code }).toArray();
      expect(dls.map((d) => ({ stage: d.stage, version: d.version, state: d.state, dueAt: instant(d.dueAt) })).sort(byStage)).toEqual(
        view.deadlines.map((d) => ({ stage: d.stage, version: view.version, state: d.state, dueAt: d.dueAt })).sort(byStage),
      );
    }
    // The reconciliation asked the counts' aggregator to check the counts against the records it repaired.
    await sys.countsSettled({ verify: false });
    const verified = (await countsState(sys.db))!;
    expect(verified.verifiedAt.getTime()).toBeGreaterThan(verifiedBefore.getTime());
    expect(verified.corrected).toBe(0);
    await handFigures();
    expect(await scanSummary(sys.db, { ...window, groupBy: 'agency' })).toEqual(await countsSummary(sys.db, { ...window, groupBy: 'agency' }));
  });
});
