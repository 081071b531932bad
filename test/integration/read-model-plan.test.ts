/**
 * The read model's hot paths must reach SQLite through an index on the
 * embedded FerretDB (tools/ferretdb/sqlite-index-pushdown.patch): a find by
 * `_id`, the projection's version-guarded `{_id, version: {$lt}}`, and an
 * equality or a `$in` of strings on a field that leads an index. FerretDB
 * 1.24's explain returns SQLite's query plan; a FerretDB or SQLite upgrade
 * that loses the plan (`SCAN` instead of `SEARCH … USING INDEX`) fails here,
 * before it makes every request read the whole table.
 *
 * The pushdown only narrows what SQLite returns; FerretDB applies the whole
 * filter again. The second part checks that the results stay Mongo's.
 */
import type { Collection, Db, Document, MongoClient } from 'mongodb';
import { openJobsFilter } from '../../store/courier-jobs';
import { COLLECTIONS, ensureIndexes } from '../../store/db';
import { bucketFilter, listDossiers, listKeys } from '../../store/dossier-list';
import { freshDatabase } from '../support/mongo';

let client: MongoClient;
let db: Db;
let dossiers: Collection<Document & { _id: string }>;

beforeAll(async () => {
  ({ client, db } = await freshDatabase('plan'));
  await ensureIndexes(db);
  dossiers = db.collection(COLLECTIONS.dossiers);
  await dossiers.insertMany([
    { _id: 'HL-0001', status: 'received', agencyId: 'a1', version: 1 },
    { _id: 'HL-0002', status: 'processing', agencyId: 'a1', version: 3 },
    { _id: 'HL-0003', status: ['processing', 'ready'], agencyId: 'a2', version: 2 },
    { _id: 'HL-0004', status: { nested: 'processing' }, agencyId: 'a2', version: 2 },
    { _id: 'HL-0005', agencyId: 'a2', version: 2 },
  ]);
});

afterAll(async () => {
  await db.dropDatabase();
  await client.close();
});

/** SQLite's plan lines from FerretDB's explain of a find. */
async function plan(filter: Document): Promise<string[]> {
  const explained = await dossiers.find(filter).explain();
  const lines = (explained.queryPlanner as { Plan?: unknown } | undefined)?.Plan;
  expect(Array.isArray(lines)).toBe(true);
  return (lines as unknown[]).map(String);
}

describe('SQLite plans through the indexes', () => {
  test('find by _id searches the unique _id index', async () => {
    const lines = await plan({ _id: 'HL-0002' });
    expect(lines.join('\n')).toMatch(/SEARCH \S+ USING INDEX \S+__id_ /);
    expect(lines.join('\n')).not.toMatch(/\bSCAN\b/);
  });

  test('the projection guard {_id, version: {$lt}} searches the _id index', async () => {
    const lines = await plan({ _id: 'HL-0002', version: { $lt: 5 } });
    expect(lines.join('\n')).toMatch(/SEARCH \S+ USING INDEX \S+__id_ /);
    expect(lines.join('\n')).not.toMatch(/\bSCAN\b/);
  });

  test('equality on a field that leads an index searches that index', async () => {
    const lines = await plan({ status: 'processing', agencyId: 'a1' });
    expect(lines.join('\n')).toMatch(/SEARCH \S+ USING INDEX \S+_status_submitted /);
    expect(lines.join('\n')).not.toMatch(/\bSCAN\b/);
  });

  test('$in of strings on a field that leads an index searches that index', async () => {
    const lines = await plan({ status: { $in: ['processing', 'ready', 'received'] }, agencyId: 'a1' });
    expect(lines.join('\n')).toMatch(/SEARCH \S+ USING INDEX \S+_status_submitted /);
    expect(lines.join('\n')).not.toMatch(/\bSCAN\b/);
  });

  test("a courier's open jobs search the open-courier key, not all open jobs nor all of the courier's jobs", async () => {
    const explained = await db.collection(COLLECTIONS.courierJobs).find(openJobsFilter('HL-BT01') as Document).explain();
    const lines = ((explained.queryPlanner as { Plan?: unknown[] }).Plan ?? []).map(String).join('\n');
    expect(lines).toMatch(/SEARCH \S+ USING INDEX \S+_open_courier /);
    expect(lines).not.toMatch(/\bSCAN\b/);
  });

  test("reconciliation reads a dossier's deadline docs by the dossier index (its dossier hour buckets are the list's)", async () => {
    const explained = await db.collection(COLLECTIONS.deadlines).find({ dossierCode: 'HL-0002' }).explain();
    const lines = ((explained.queryPlanner as { Plan?: unknown[] }).Plan ?? []).map(String).join('\n');
    expect(lines).toMatch(/SEARCH \S+ USING INDEX \S+_dossier /);
    expect(lines).not.toMatch(/\bSCAN\b/);
  });

  // The rest of a reconciliation batch (store/reconcile.ts): the hours of a day that hold dossiers, an hour's deadline docs.
  test.each([
    ["the hours of a day that hold dossiers", COLLECTIONS.dossierHours, { day: '2026-03-02' }, 'day'],
    ["an hour's deadline docs", COLLECTIONS.deadlines, { listHour: '2026-03-02T09' }, 'list_hour'],
  ])('reconciliation reads %s by an index', async (_what, collection, filter, index) => {
    const explained = await db.collection(collection).find(filter).explain();
    const lines = ((explained.queryPlanner as { Plan?: unknown[] }).Plan ?? []).map(String).join('\n');
    expect(lines).toMatch(new RegExp(`SEARCH \\S+ USING INDEX \\S+_${index} `));
    expect(lines).not.toMatch(/\bSCAN\b/);
  });

  // Every read of a list page is one bucket of one of these shapes (store/dossier-list.ts).
  test.each([
    ['the whole office (an hour)', {}, '2026-03-02T09', 'list_hour'],
    ['one agency (a day)', { agencyId: 'HL-UBND' }, '2026-03-02', 'list_agency_day'],
    ['one status (a day)', { status: 'processing' }, '2026-03-02', 'list_status_day'],
    ['an agency and a status (a day)', { agencyId: 'HL-UBND', status: 'processing' }, '2026-03-02', 'list_agency_status_day'],
    ['an agency, a status and a procedure (a day)', { agencyId: 'HL-UBND', status: 'closed', procedureCode: '1.001234' }, '2026-03-02', 'list_agency_status_day'],
    ['an agency and a procedure (a day)', { agencyId: 'HL-UBND', procedureCode: '1.001234' }, '2026-03-02', 'list_procedure_day'],
    ['a procedure (a day)', { procedureCode: '1.001234' }, '2026-03-02', 'list_procedure_day'],
  ])('a list page over %s searches its bucket index', async (_what, q, slot, index) => {
    const lines = (await plan(bucketFilter(q, slot) as Document)).join('\n');
    expect(lines).toMatch(new RegExp(`SEARCH \\S+ USING INDEX \\S+_${index} `));
    expect(lines).not.toMatch(/\bSCAN\b/);
  });

  // A round of day buckets is one `$in` read.
  test.each([
    ['one agency', { agencyId: 'HL-UBND' }, 'list_agency_day'],
    ['an agency and a status', { agencyId: 'HL-UBND', status: 'processing' }, 'list_agency_status_day'],
  ])('a round of days over %s searches its bucket index', async (_what, q, index) => {
    const days = Array.from({ length: 64 }, (_, i) => new Date(Date.UTC(2026, 2, 2 - i)).toISOString().slice(0, 10));
    const lines = (await plan(bucketFilter(q, days) as Document)).join('\n');
    expect(lines).toMatch(new RegExp(`SEARCH \\S+ USING INDEX \\S+_${index} `));
    expect(lines).not.toMatch(/\bSCAN\b/);
  });
});

describe('results stay the MongoDB ones', () => {
  const ids = async (filter: Document) => (await dossiers.find(filter).toArray()).map((d) => d._id).sort();

  test('_id with more keys applies them all', async () => {
    expect(await ids({ _id: 'HL-0002', version: { $lt: 5 } })).toEqual(['HL-0002']);
    expect(await ids({ _id: 'HL-0002', version: { $lt: 3 } })).toEqual([]);
    expect(await ids({ _id: 'HL-0002', status: 'received' })).toEqual([]);
  });

  test('indexed equality keeps array members and leaves documents and missing fields out', async () => {
    expect(await ids({ status: 'processing' })).toEqual(['HL-0002', 'HL-0003']);
    expect(await ids({ status: 'processing', agencyId: 'a2' })).toEqual(['HL-0003']);
    expect(await ids({ status: 'ready' })).toEqual(['HL-0003']);
  });

  test('indexed $in keeps array members and leaves documents, missing fields and other types out', async () => {
    expect(await ids({ status: { $in: ['processing', 'received'] } })).toEqual(['HL-0001', 'HL-0002', 'HL-0003']);
    expect(await ids({ status: { $in: ['ready', 'closed'] } })).toEqual(['HL-0003']);
    expect(await ids({ status: { $in: ['processing', 'ready'] }, agencyId: 'a1' })).toEqual(['HL-0002']);
    expect(await ids({ status: { $in: ['closed'] } })).toEqual([]);
    // Not only strings: not pushed down, FerretDB alone answers.
    expect(await ids({ status: { $in: ['received', null] } })).toEqual(['HL-0001', 'HL-0005']);
    expect(await ids({ status: { $in: ['ready', { nested: 'processing' }] } })).toEqual(['HL-0003', 'HL-0004']);
  });

  test('a version-guarded replace changes only an older version', async () => {
    const stale = await dossiers.replaceOne({ _id: 'HL-0001', version: { $lt: 1 } }, { status: 'stale', agencyId: 'a1', version: 1 });
    expect(stale.matchedCount).toBe(0);
    const newer = await dossiers.replaceOne({ _id: 'HL-0001', version: { $lt: 2 } }, { status: 'received', agencyId: 'a1', version: 2 });
    expect(newer.modifiedCount).toBe(1);
    expect((await dossiers.findOne({ _id: 'HL-0001' }))?.version).toBe(2);
  });
});

describe("a list page's reads", () => {
  // A quiet filter with a busy newest day: 40 dossiers on it, one 300 days before, none between.
  test('a round of days is one read, and rounds double while they come back empty', async () => {
    const day = (back: number) => new Date(Date.UTC(2026, 5, 30) - back * 86_400_000).toISOString().slice(0, 10);
    await db.collection(COLLECTIONS.dossierDays).insertMany(Array.from({ length: 301 }, (_, i) => ({ _id: day(i) as never, hours: true })));
    const at = [...Array.from({ length: 40 }, (_, i) => Date.parse('2026-06-30T09:00:00+07:00') + i * 60_000), Date.parse(`${day(300)}T10:00:00+07:00`)];
    const quiet = at.map((ms, i) => {
      const fields = { agencyId: 'QUIET', status: 'processing' as const, procedureCode: '1.001234', submittedAt: new Date(ms) };
      return { _id: `Q-${String(i).padStart(2, '0')}`, ...fields, ...listKeys(fields), viewJson: '{}' };
    });
    await db.collection(COLLECTIONS.dossiers).insertMany(quiet as Document[]);

    let finds = 0;
    const counted = new Proxy(db, {
      get: (target, key) =>
        key === 'collection'
          ? (name: string) => {
              const c = target.collection(name);
              if (name !== COLLECTIONS.dossiers) return c;
              return new Proxy(c, { get: (tc, k) => (k === 'find' ? (...a: Parameters<typeof tc.find>) => (finds++, tc.find(...a)) : (Reflect.get(tc, k, tc) as unknown)) });
            }
          : (Reflect.get(target, key, target) as unknown),
    });
    const page = await listDossiers(counted, { agencyId: 'QUIET', status: 'processing', limit: 51 });
    expect(page.map((d) => d._id)).toEqual([...quiet.slice(0, 40).reverse(), quiet[40]].map((d) => d._id));
    // 2 days, then 1, then 2, 4 … 64 a read: 11 reads for 301 days (one a day after the first: 300).
    expect(finds).toBeLessThanOrEqual(12);
  });
});
