/**
 * Dossier list pages through indexed equalities only (issue #10).
 *
 * The embedded FerretDB pushes one top-level string equality (or `$in` of
 * strings) on an indexed field to SQLite and does everything else (ranges,
 * sorts) in memory over what that selects. So a page never asks for a sort or
 * a range over a set that grows with the data: each dossier carries scalar
 * bucket keys (the filters' values and its local submission day, or hour for
 * the unfiltered list), and a page walks the buckets newest first, sorting
 * only the buckets it reads, until the page is full. A round of days is one
 * `$in` read, and rounds double while they come back empty, so a quiet
 * filter's year of empty days is a dozen reads, not ~1 ms a day; hours are
 * read one equality each, in parallel. Which days hold any dossier is kept
 * in `dossier_days` (a few hundred documents a year), so the walk skips days
 * without dossiers and knows where the data ends.
 *
 * The cost of a page is then the size of the buckets it reads: a day of one
 * agency, or an hour of the whole office, whatever the collection's size.
 */
import type { Db, Filter, OptionalUnlessRequiredId } from 'mongodb';
import { localDate, localMinutes } from '../domain/calendar';
import type { DossierStatus, DossierView } from '../domain/dossier';
import { COLLECTIONS, isDuplicateKey } from './db';

/** Bump when the keys change: the startup backfill then rewrites them (backfillListKeys). */
export const LIST_KEYS_VERSION = 1;

/** The bucket keys a dossier document carries, one indexed field each (store/db.ts). */
export interface ListKeys {
  /** Local (UTC+7) hour of submission, `YYYY-MM-DDTHH`: the unfiltered list. */
  listHour: string;
  /** `agency|day` */
  listAgencyDay: string;
  /** `status|day` */
  listStatusDay: string;
  /** `agency|status|day` */
  listAgencyStatusDay: string;
  /** `procedure|day` */
  listProcedureDay: string;
}

export const LIST_KEY_FIELDS: readonly (keyof ListKeys)[] = ['listHour', 'listAgencyDay', 'listStatusDay', 'listAgencyStatusDay', 'listProcedureDay'];

/** What the keys are made of. */
export interface ListedFields {
  agencyId: string;
  status: DossierStatus;
  procedureCode: string;
  submittedAt: Date;
}

const HOUR_MS = 3_600_000;

const hourKey = (day: string, hour: number): string => `${day}T${String(hour).padStart(2, '0')}`;
const hourOf = (ms: number): string => hourKey(localDate(ms), Math.floor(localMinutes(ms) / 60));

/** A day's 24 `listHour` values, in order. */
export const hoursOf = (day: string): string[] => Array.from({ length: 24 }, (_, h) => hourKey(day, h));

export function listKeys(d: ListedFields): ListKeys {
  const at = d.submittedAt.getTime();
  const day = localDate(at);
  return {
    listHour: hourOf(at),
    listAgencyDay: `${d.agencyId}|${day}`,
    listStatusDay: `${d.status}|${day}`,
    listAgencyStatusDay: `${d.agencyId}|${d.status}|${day}`,
    listProcedureDay: `${d.procedureCode}|${day}`,
  };
}

/**
 * A day that holds at least one dossier. `hours: true` when its hours are
 * recorded in `dossier_hours` (every day recorded since those exist); a day
 * without it is from before, and a walk reads all 24 of its hours.
 */
interface DossierDayDoc {
  _id: string;
  hours?: true;
}

/**
 * An hour (`listHour`) that holds at least one dossier. A document of its
 * own, not a field of the day's: FerretDB 1.24 applies an update by reading
 * and replacing the whole document, so two writers adding hours to one day
 * document at once could lose one; two inserts of the same `_id` cannot.
 */
interface DossierHourDoc {
  _id: string;
  day: string;
}

/** Days and hours already recorded through each database handle: each is written once, not with every projection. */
const known = new WeakMap<Db, Set<string>>();

async function insertOnce<T extends { _id: string }>(db: Db, collection: string, doc: T): Promise<void> {
  try {
    await db.collection<T>(collection).insertOne(doc as OptionalUnlessRequiredId<T>);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/**
 * Records that `submittedAt`'s local day and hour hold a dossier. Written
 * before the dossier itself, so a page or a reconciliation pass never misses
 * a dossier because its day or hour is unknown; the hour before the day, so a
 * day that says its hours are recorded has them all.
 */
export async function recordListDay(db: Db, submittedAt: Date): Promise<void> {
  const at = submittedAt.getTime();
  const day = localDate(at);
  const hour = hourOf(at);
  let seen = known.get(db);
  if (!seen) known.set(db, (seen = new Set()));
  if (seen.has(hour)) return;
  await insertOnce<DossierHourDoc>(db, COLLECTIONS.dossierHours, { _id: hour, day });
  if (!seen.has(day)) {
    await insertOnce<DossierDayDoc>(db, COLLECTIONS.dossierDays, { _id: day, hours: true });
    // Also after a duplicate: the process that inserted it may have stopped before moving the generation.
    await moveDaysGeneration(db);
    seen.add(day);
  }
  seen.add(hour);
}

/** How a dossier document holds its view (store/documents.ts StoredDossierDoc). */
interface StoredView {
  viewJson?: string;
  view?: DossierView;
}

/** The view a stored dossier holds, as text or (written before) as a document. */
export function viewOf(doc: StoredView): DossierView {
  if (doc.viewJson !== undefined) return JSON.parse(doc.viewJson) as DossierView;
  if (doc.view === undefined) throw new Error('a dossier document without its view');
  return doc.view;
}

/** A stored dossier as readers get it. */
export function dossierOf<T extends StoredView>(stored: T): Omit<T, 'viewJson' | 'deadlineStages' | 'viewHash'> & { view: DossierView } {
  // The stored-only fields are left out of what readers get.
  const { viewJson, deadlineStages: _stages, viewHash: _hash, ...rest } = stored as T & { deadlineStages?: unknown; viewHash?: unknown };
  return { ...rest, view: viewOf({ viewJson, view: stored.view }) };
}

/** The local days that hold a dossier, oldest first (a few hundred documents a year). */
export async function listedDays(db: Db): Promise<string[]> {
  return (await listedDayRecords(db)).map((d) => d.day);
}

/** The days that hold a dossier, oldest first, and whether each one's hours are recorded (`hoursOfDay`). */
export async function listedDayRecords(db: Db): Promise<{ day: string; hourly: boolean }[]> {
  const docs = await db.collection<DossierDayDoc>(COLLECTIONS.dossierDays).find({}).toArray();
  return docs.map((d) => ({ day: d._id, hourly: d.hours === true })).sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

/** The hours of `day` that hold a dossier, in order (one indexed equality); all 24 for a day recorded before hours were. */
export async function hoursOfDay(db: Db, day: { day: string; hourly: boolean }): Promise<string[]> {
  if (!day.hourly) return hoursOf(day.day);
  const docs = await db.collection<DossierHourDoc>(COLLECTIONS.dossierHours).find({ day: day.day }).toArray();
  return docs.map((d) => d._id).sort();
}

/** `read_model_meta`'s document counting the days recorded: a page reads all days again only when it moved. */
const DAYS_GENERATION = 'listedDays';
interface DaysGenerationDoc {
  _id: string;
  generation: number;
}
const pageDays = new WeakMap<Db, { generation: number; days: string[] }>();

async function moveDaysGeneration(db: Db): Promise<void> {
  const meta = db.collection<DaysGenerationDoc>(COLLECTIONS.readModelMeta);
  try {
    await meta.updateOne({ _id: DAYS_GENERATION }, { $inc: { generation: 1 } }, { upsert: true });
  } catch (err) {
    // Two first upserts at once on FerretDB 1.24: one inserts, the other fails on its key; now it exists.
    if (!isDuplicateKey(err)) throw err;
    await meta.updateOne({ _id: DAYS_GENERATION }, { $inc: { generation: 1 } });
  }
}

/**
 * The days a list page walks, oldest first. Reading them all decodes ~365
 * documents a year, ~10 % of a page; so a handle keeps them and reads by `_id`
 * only the generation that recordListDay moves after adding a day (once a day,
 * and for each day a backfill or an import adds). A dossier is written after
 * its day and the generation, so a page that can see it sees its day.
 */
export async function daysForPage(db: Db): Promise<string[]> {
  const gen = await db.collection<DaysGenerationDoc>(COLLECTIONS.readModelMeta).findOne({ _id: DAYS_GENERATION });
  const generation = gen?.generation ?? 0;
  const memo = pageDays.get(db);
  if (memo && memo.generation === generation) return memo.days;
  const days = await listedDays(db);
  pageDays.set(db, { generation, days });
  return days;
}

/** What a list page returns of a dossier. */
export interface ListedDossier extends ListedFields, ListKeys {
  _id: string;
  view: DossierView;
}

export interface DossierListQuery {
  agencyId?: string;
  status?: string;
  procedureCode?: string;
  /** Epoch milliseconds: submitted at or after. */
  from?: number;
  /** Epoch milliseconds: submitted before. */
  to?: number;
  /** The last dossier of the previous page. */
  after?: { at: number; id: string };
  limit: number;
}

/** The bucket key a query walks, and whether its buckets are hours (else days). */
function bucketOf(q: Omit<DossierListQuery, 'limit'>): { field: keyof ListKeys; value: (slot: string) => string; hourly: boolean } {
  // The most selective key the query's equalities allow; the other equalities are applied by FerretDB.
  if (q.agencyId && q.status) return { field: 'listAgencyStatusDay', value: (d) => `${q.agencyId}|${q.status}|${d}`, hourly: false };
  if (q.procedureCode) return { field: 'listProcedureDay', value: (d) => `${q.procedureCode}|${d}`, hourly: false };
  if (q.agencyId) return { field: 'listAgencyDay', value: (d) => `${q.agencyId}|${d}`, hourly: false };
  if (q.status) return { field: 'listStatusDay', value: (d) => `${q.status}|${d}`, hourly: false };
  // The whole office: an hour is a city's ~50 dossiers, a day would be ~1,100.
  return { field: 'listHour', value: (h) => h, hourly: true };
}

/**
 * A read of a page's walk: the bucket `slot` (a day, or an hour for the unfiltered list) of the
 * query, or several buckets at once (`$in`, which the patched FerretDB also pushes down).
 */
export function bucketFilter(q: Omit<DossierListQuery, 'limit'>, slot: string | readonly string[]): Filter<ListedDossier> {
  const bucket = bucketOf(q);
  const key = typeof slot === 'string' ? bucket.value(slot) : { $in: slot.map(bucket.value) };
  // The bucket key first: FerretDB pushes the first indexed equality to SQLite and applies the rest itself.
  const f = { [bucket.field]: key } as Filter<ListedDossier>;
  if (q.agencyId) f.agencyId = q.agencyId;
  if (q.status) f.status = q.status as DossierStatus;
  if (q.procedureCode) f.procedureCode = q.procedureCode;
  return f;
}

/** Buckets read at once, growing while they come back short (a quiet filter walks many empty days). */
const MAX_PARALLEL = 16;
/** Days read by one `$in` at most: a quiet filter's empty days cost a query per round, not one each. */
const MAX_DAYS_PER_READ = 64;

/**
 * A page of dossiers, newest first (submission instant, then code, both
 * descending), after `q.after`. Every read is one indexed equality on a
 * bucket key, or a `$in` of a round's day keys; see the module comment.
 */
export async function listDossiers(db: Db, q: DossierListQuery): Promise<ListedDossier[]> {
  const bucket = bucketOf(q);
  const upper = Math.min(q.to ?? Infinity, q.after ? q.after.at + 1 : Infinity);
  const lower = q.from ?? -Infinity;
  // The days that hold dossiers, newest first, within the query's range.
  const lastDay = upper === Infinity ? null : localDate(upper - 1);
  const firstDay = lower === -Infinity ? null : localDate(lower);
  const days = (await daysForPage(db)).filter((d) => (lastDay === null || d <= lastDay) && (firstDay === null || d >= firstDay)).reverse();
  const slots: string[] = [];
  for (const day of days) {
    if (!bucket.hourly) slots.push(day);
    else slots.push(...hoursOf(day).reverse());
  }
  // Hours outside the range are skipped without a read, and so are today's hours still to come
  // (an hour's margin for a worker whose clock runs ahead).
  const horizon = Date.now() + HOUR_MS;
  const inRange = (slot: string) => {
    if (!bucket.hourly) return true;
    const start = Date.parse(`${slot}:00:00+07:00`);
    return start < upper && start < horizon && start + HOUR_MS > lower;
  };

  const keep = (d: ListedDossier) => {
    const at = d.submittedAt.getTime();
    if (at < lower || (q.to !== undefined && at >= q.to)) return false;
    if (q.after && (at > q.after.at || (at === q.after.at && d._id >= q.after.id))) return false;
    return true;
  };
  const newestFirst = (a: ListedDossier, b: ListedDossier) => b.submittedAt.getTime() - a.submittedAt.getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);

  const page: ListedDossier[] = [];
  const todo = slots.filter(inRange);
  // The newest bucket is usually partial (today, or this hour): the first round reads the one before too.
  let width = 2;
  let fullest = 0;
  const read = async (filter: Filter<ListedDossier>) =>
    (await db.collection<ListedDossier>(COLLECTIONS.dossiers).find(filter).toArray()).map((d) => dossierOf(d as ListedDossier & StoredView));
  // A round's buckets in walk order: days in one `$in` read, split by their key; hours one read each.
  const readRound = async (round: string[]): Promise<ListedDossier[][]> => {
    if (bucket.hourly) return Promise.all(round.map((slot) => read(bucketFilter(q, slot))));
    const docs = await read(bucketFilter(q, round));
    const byKey = new Map(round.map((slot): [string, ListedDossier[]] => [bucket.value(slot), []]));
    for (const d of docs) byKey.get(d[bucket.field])?.push(d);
    return [...byKey.values()];
  };
  const maxWidth = bucket.hourly ? MAX_PARALLEL : MAX_DAYS_PER_READ;
  while (page.length < q.limit && todo.length) {
    const round = todo.splice(0, width);
    const found = await readRound(round);
    const before = page.length;
    for (const docs of found) {
      const kept = docs.filter(keep);
      fullest = Math.max(fullest, kept.length);
      page.push(...kept.sort(newestFirst));
      if (page.length >= q.limit) break;
    }
    // Each dossier read is decoded whole by FerretDB, most of a page's cost: the next round reads as
    // many buckets as the fullest one so far says the page still needs, doubling while they come back empty.
    const needed = fullest > 0 ? Math.ceil((q.limit - page.length) / fullest) : width * 2;
    // Days double after an empty round even when a full day set the estimate (a quiet filter with a
    // busy today otherwise read its other days one per round); hours keep the estimate.
    width = Math.min(maxWidth, !bucket.hourly && page.length === before ? Math.max(needed, width * 2) : needed);
  }
  return page.slice(0, q.limit);
}

/** The startup backfill's marker, in `read_model_meta`. */
interface MetaDoc {
  _id: string;
  version: number;
}

/**
 * Gives every dossier document written before the bucket keys existed its
 * keys, and records its day. Idempotent; runs once per LIST_KEYS_VERSION (a
 * marker says it is done), at worker startup, before the worker takes work.
 * Each update is guarded by the document's version, so a projection written
 * meanwhile (which carries its own keys) is left alone.
 */
export async function backfillListKeys(db: Db, log: (m: string) => void = () => undefined): Promise<number> {
  const meta = db.collection<MetaDoc>(COLLECTIONS.readModelMeta);
  const marker = await meta.findOne({ _id: 'listKeys' });
  if (marker && marker.version >= LIST_KEYS_VERSION) return 0;
  const dossiers = db.collection<ListedDossier & { version: number }>(COLLECTIONS.dossiers);
  let updated = 0;
  // One pass over the collection in its stored order: no sort, no range.
  const cursor = dossiers.find({}, { projection: { _id: 1, version: 1, agencyId: 1, status: 1, procedureCode: 1, submittedAt: 1, ...Object.fromEntries(LIST_KEY_FIELDS.map((f) => [f, 1])) } });
  for await (const d of cursor) {
    if (!(d.submittedAt instanceof Date)) continue;
    await recordListDay(db, d.submittedAt);
    const keys = listKeys(d);
    if (LIST_KEY_FIELDS.every((f) => d[f] === keys[f])) continue;
    const r = await dossiers.updateOne({ _id: d._id, version: d.version }, { $set: keys });
    updated += r.modifiedCount;
    if (updated % 10_000 === 0 && updated) log(`list keys: ${updated} dossiers updated`);
  }
  await meta.replaceOne({ _id: 'listKeys' }, { version: LIST_KEYS_VERSION }, { upsert: true });
  return updated;
}
