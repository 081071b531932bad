/**
 * The compliance counts: the summary's figures pre-aggregated per due month,
 * so a month's summary reads a few small documents instead of every deadline
 * record (docs/COMPLIANCE-PERFORMANCE.md has the measurements).
 *
 * Why this shape, from what FerretDB 1.24 (SQLite backend) does:
 * - no filter but `_id` equality reaches SQLite, and even that scans the
 *   table: every read costs the size of the collection it reads, so each
 *   month's counts live in small collections of their own, read whole;
 * - decoding a stored document costs roughly 50 ns a byte: the counts are
 *   compact text tables (dictionary-coded lines);
 * - an update is a read, a change in Go and a write back with no lock, so
 *   concurrent `$inc`/`$set` on one document lose writes: the counts have a
 *   single writer, the aggregator.
 *
 * Per due month `YYYY_MM`:
 * - `counts_days_YYYY_MM`: one document per due day, every dimension;
 * - `counts_month_YYYY_MM`: the month without the day (whole-month windows);
 * - `counts_byday_YYYY_MM`: day × stage × owner (grouping by day, stage,
 *   owner or month, filtered by stage at most);
 * - `counts_open_YYYY_MM`: one document per due day, the open deadlines as
 *   list items (the at-risk list);
 * - `counts_members_YYYY_MM`: the aggregator's state, each due day's member
 *   table (deadline id → version, dimensions, state, list fields) as
 *   `<day>@<rev>`;
 * and `counts_overdue`, one document per due month, the overdue deadlines as
 * list items (the overdue list).
 *
 * Exactness without transactions:
 * - the projection only inserts change records `<deadlineId>@<version>` next
 *   to each deadline write (`recordDeadlineChange`); a retry or a duplicate
 *   is a duplicate key, and separate documents are never lost;
 * - the aggregator applies a change only over an older version (retries,
 *   replays and late zombie attempts change nothing), and derives every count
 *   from the member tables, never by incrementing;
 * - change records are deleted only after everything they touch is written,
 *   so a crash leaves them pending and they apply again, idempotently;
 * - `load()` heals what a crashed pass left; `verify()` compares the members
 *   with the deadline records themselves (the backfill, and the backstop for
 *   a change a writer never recorded).
 */
import type { Db } from 'mongodb';
import { addCalendarDays, localDate } from '../domain/calendar';
import { isDuplicateKey } from './db';
import type { DeadlineDoc } from './read-model';
import {
  addToTally,
  decision766Outcome,
  emptyTally,
  summaryOf,
  type Decision766Outcome,
  type DeadlineState,
  type GroupBy,
  type Summary,
  type SummaryQuery,
  type SummaryRecord,
  type Tally,
} from './tally';

export const COUNTS_COLLECTIONS = {
  /** What the projection inserts, one document per deadline version. */
  changes: 'counts_changes',
  /** `{_id: 'state'}`: when the counts were built and last verified. */
  meta: 'counts_meta',
  /** Verification requests (reconciliation, tests): one document each, deleted once served. */
  requests: 'counts_requests',
} as const;

const STATES: readonly DeadlineState[] = ['met_on_time', 'met_late', 'open', 'overdue'];
type TableKind = 'days' | 'month' | 'byday' | 'members' | 'open';
const TABLE_NAME = /^counts_(days|month|byday|members|open)_\d{4}_\d{2}$/;
/** One document per due month: the overdue deadlines, for the overdue list. */
const OVERDUE = 'counts_overdue';

export function countsCollection(kind: TableKind, month: string): string {
  return `counts_${kind}_${month.replace('-', '_')}`;
}

/** A deadline record as the counts see it. */
export type CountedRecord = SummaryRecord & Pick<DeadlineDoc, '_id' | 'version' | 'dossierCode' | 'dueAt' | 'revisedDueAt' | 'startedAt'>;

/** What the overdue and at-risk lists show of a deadline. */
export type ListedDeadline = Pick<DeadlineDoc, '_id' | 'dossierCode' | 'stage' | 'owner' | 'agencyId' | 'procedureCode' | 'startedAt' | 'dueAt' | 'revisedDueAt' | 'state'>;

/** What the projection inserts next to each deadline write. */
export interface ChangeDoc {
  _id: string;
  id: string;
  v: number;
  day: string;
  /** agencyId, procedureCode, stage, owner, district, Decision 766 outcome, joined by tabs. */
  key: string;
  state: DeadlineState;
  /** What the deadline lists show beyond the key: dossier code, due, revised due and start (epoch ms, base 36), joined by tabs. */
  item: string;
}

/** Tabs and newlines delimit the text tables: a free-text dimension (a district) carries them escaped. */
const escapeField = (v: string): string => v.replace(/[\\\t\n]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\\\'));
const unescapeField = (v: string): string => (v.includes('\\') ? v.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c)) : v);

const ms36 = (d: Date | null | undefined): string => (d ? d.getTime().toString(36) : '');
const fromMs36 = (s: string): Date | null => (s ? new Date(parseInt(s, 36)) : null);

/** The dimensions a summary groups or filters on, Decision 766's outcome judged on the same record, and the list fields. */
export function changeOf(d: CountedRecord): ChangeDoc {
  const key = [d.agencyId, d.procedureCode, d.stage, d.owner, d.district, decision766Outcome(d)].map(escapeField).join('\t');
  const item = [escapeField(d.dossierCode), ms36(d.dueAt), ms36(d.revisedDueAt), ms36(d.startedAt)].join('\t');
  return { _id: `${d._id}@${d.version}`, id: d._id, v: d.version, day: d.dueDay, key, state: d.state, item };
}

/** Inserts the change record of a deadline write; a retry or a duplicate is a no-op. */
export async function recordDeadlineChange(db: Db, d: CountedRecord): Promise<void> {
  try {
    await db.collection<ChangeDoc>(COUNTS_COLLECTIONS.changes).insertOne(changeOf(d));
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

export interface CountsState {
  _id: 'state';
  /** When the first verification (the backfill) completed: from then on the summary reads the counts. */
  builtAt: Date;
  verifiedAt: Date;
  /** What the last verification corrected (0 when the counts already matched the records). */
  corrected: number;
}

export async function countsState(db: Db): Promise<CountsState | null> {
  return db.collection<CountsState>(COUNTS_COLLECTIONS.meta).findOne({ _id: 'state' });
}

export async function countsReady(db: Db): Promise<boolean> {
  return (await countsState(db)) !== null;
}

/** Asks the aggregator to verify the counts against the deadline records; returns the request's id. */
export async function requestCountsVerification(db: Db, reason: string, id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`): Promise<string> {
  try {
    await db.collection<{ _id: string; reason: string; at: Date }>(COUNTS_COLLECTIONS.requests).insertOne({ _id: id, reason, at: new Date() });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  return id;
}

// ------------------------------------------------------------ text tables

/**
 * Dimension tuples with four state counts, as two strings: the dictionary
 * (tab-separated values) and lines of dictionary indexes then counts.
 * Self-contained per document: no shared dictionary to keep in step.
 */
interface Table {
  dict: string;
  t: string;
}

function encode(rows: Map<string, number[]>): Table {
  const codes = new Map<string, number>();
  const dict: string[] = [];
  const code = (v: string) => {
    let c = codes.get(v);
    if (c === undefined) codes.set(v, (c = dict.push(v) - 1));
    return c;
  };
  const lines: string[] = [];
  for (const [dims, n] of rows) lines.push(`${dims.split('\t').map(code).join(' ')} ${n.join(' ')}`);
  return { dict: dict.join('\t'), t: lines.join('\n') };
}

function* decode(table: Table | null, width: number): Generator<{ dims: string[]; n: number[] }> {
  if (!table?.t) return;
  const dict = table.dict.split('\t').map(unescapeField);
  for (const line of table.t.split('\n')) {
    const f = line.split(' ');
    yield { dims: f.slice(0, width).map((c) => dict[Number(c)]!), n: f.slice(width).map(Number) };
  }
}

function bump(rows: Map<string, number[]>, dims: string, state: DeadlineState): void {
  let n = rows.get(dims);
  if (!n) rows.set(dims, (n = [0, 0, 0, 0]));
  n[STATES.indexOf(state)]!++;
}

interface DayDoc extends Table {
  _id: string;
  /** The members revision these counts were derived from. */
  src: number;
}

interface MonthDoc extends Table {
  _id: 'month' | 'byday';
  /** `day:rev` of every member table of the month these counts were derived from. */
  src: string;
}

interface MembersDoc {
  _id: string;
  day: string;
  rev: number;
  /** `id \t v \t agency \t procedure \t stage \t owner \t district \t outcome \t state \t dossier \t due \t revised \t started` lines. */
  m: string;
}

/** Deadlines of one list as `id \t agency \t procedure \t stage \t owner \t dossier \t due \t revised \t started` lines. */
interface ItemsDoc {
  _id: string;
  /** For a day (`counts_open_*`): its members revision; for a month (`counts_overdue`): `day:rev` of its days. */
  src: number | string;
  items: string;
}

// ------------------------------------------------------------------ reads

function lastDayOf(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
}

export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.slice(0, 7).split('-').map(Number) as [number, number];
  const end = to.slice(0, 7);
  for (;;) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (month > end) return out;
    out.push(month);
    if (++m === 13) [y, m] = [y + 1, 1];
  }
}

/**
 * Which tables a month of the window is read from: the month table, day ×
 * stage × owner, the included days, or (most of a month) the month table less
 * the excluded days.
 */
export type CountsPath = 'month' | 'byday' | 'days' | 'month-less-days';

function daysOf(month: string): string[] {
  const last = Number(lastDayOf(month).slice(8));
  return Array.from({ length: last }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}

/** The smallest reading that answers the query for one month of its window. */
export function countsPathFor(q: SummaryQuery, month: string): CountsPath {
  const g = q.groupBy ?? 'agency';
  const needsDims = q.agencyId || q.procedureCode || g === 'agency' || g === 'procedure' || g === 'district';
  if (!needsDims) return 'byday';
  if (g === 'day') return 'days';
  const days = daysOf(month);
  const inWindow = days.filter((d) => d >= q.from && d <= q.to).length;
  if (inWindow === days.length) return 'month';
  return inWindow > days.length / 2 ? 'month-less-days' : 'days';
}

type Dims = Partial<Record<'agencyId' | 'procedureCode' | 'stage' | 'owner' | 'district' | 'day' | 'month', string>>;
const GROUP_DIM: Record<GroupBy, keyof Dims> = { agency: 'agencyId', procedure: 'procedureCode', stage: 'stage', owner: 'owner', district: 'district', day: 'day', month: 'month' };

/** The summary from the counts: the same contract and figures as the scan (store/compliance.ts). */
export async function countsSummary(db: Db, q: SummaryQuery): Promise<Summary> {
  const g: GroupBy = q.groupBy ?? 'agency';
  const groups = new Map<string, Tally>();
  const totals = emptyTally();
  const take = (dims: Dims, n: number[], outcome: Decision766Outcome) => {
    if ((q.stage && dims.stage !== q.stage) || (q.agencyId && dims.agencyId !== q.agencyId) || (q.procedureCode && dims.procedureCode !== q.procedureCode)) return;
    const key = dims[GROUP_DIM[g]] ?? '';
    let t = groups.get(key);
    if (!t) groups.set(key, (t = emptyTally()));
    for (let i = 0; i < STATES.length; i++) {
      if (!n[i]) continue;
      addToTally(t, STATES[i]!, outcome, n[i]);
      addToTally(totals, STATES[i]!, outcome, n[i]);
    }
  };
  const takeFull = (month: string, day: string | undefined, [agencyId, procedureCode, stage, owner, district, outcome]: string[], n: number[]) =>
    take({ agencyId, procedureCode, stage, owner, district, day, month }, n, outcome as Decision766Outcome);
  // One `_id` lookup per day: FerretDB decodes only the document it returns.
  const dayDocs = (month: string, days: string[]) => Promise.all(days.map((day) => db.collection<DayDoc>(countsCollection('days', month)).findOne({ _id: day })));
  const monthDoc = (month: string, table: 'month' | 'byday') => db.collection<MonthDoc>(countsCollection(table, month)).findOne({ _id: table });

  // Fetched concurrently, tallied in month order so the result never depends on timing.
  const months = monthsBetween(q.from, q.to);
  const tables = await Promise.all(
    months.map(async (month) => {
      const path = countsPathFor(q, month);
      const days = daysOf(month);
      const inWindow = (d: string) => d >= q.from && d <= q.to;
      if (path === 'days') return { month, path, whole: null, days: await dayDocs(month, days.filter(inWindow)) };
      if (path === 'month-less-days') {
        const [whole, excluded] = await Promise.all([monthDoc(month, 'month'), dayDocs(month, days.filter((d) => !inWindow(d)))]);
        return { month, path, whole, days: excluded };
      }
      return { month, path, whole: await monthDoc(month, path), days: [] };
    }),
  );
  for (const { month, path, whole, days } of tables) {
    // A month's tables can hold thousands of rows: let other requests in between months.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (path === 'month') {
      for (const { dims, n } of decode(whole, 6)) takeFull(month, undefined, dims, n);
    } else if (path === 'byday') {
      for (const { dims: [day, stage, owner, outcome], n } of decode(whole, 4)) {
        if (day! >= q.from && day! <= q.to) take({ day, stage, owner, month }, n, outcome as Decision766Outcome);
      }
    } else if (path === 'days') {
      for (const doc of days) for (const { dims, n } of decode(doc, 6)) takeFull(month, doc!._id, dims, n);
    } else {
      // The month less the days outside the window: each day's rows are part of the month's.
      const rows = new Map<string, { dims: string[]; n: number[] }>();
      for (const { dims, n } of decode(whole, 6)) rows.set(dims.join('\t'), { dims, n });
      for (const doc of days) {
        for (const { dims, n } of decode(doc, 6)) {
          const row = rows.get(dims.join('\t'));
          if (row) for (let i = 0; i < n.length; i++) row.n[i]! -= n[i]!;
        }
      }
      // A row whose deadlines all fall on excluded days is not a group of the window.
      for (const { dims, n } of rows.values()) if (n.some((x) => x > 0)) takeFull(month, undefined, dims, n);
    }
  }
  return summaryOf(groups, totals);
}

/** One list line back into what the lists show. */
function listed(line: string, state: DeadlineState): ListedDeadline {
  const [id, agencyId, procedureCode, stage, owner, dossierCode, due, revised, started] = line.split('\t').map(unescapeField) as [string, string, string, ListedDeadline['stage'], ListedDeadline['owner'], string, string, string, string];
  return { _id: id, dossierCode, stage, owner, agencyId, procedureCode, startedAt: fromMs36(started)!, dueAt: fromMs36(due)!, revisedDueAt: fromMs36(revised), state };
}

const byDue = (a: ListedDeadline, b: ListedDeadline) => a.dueAt.getTime() - b.dueAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

/**
 * The overdue deadlines from the counts, oldest due first: the same answer as
 * the scan (store/compliance.ts). Due months are read oldest first, each by
 * `_id`, until the limit is met: every due of a month is before every due of
 * the next (a deadline's month is that of its due day).
 */
export async function countsOverdue(db: Db, q: { stage?: string; agencyId?: string; limit: number }): Promise<ListedDeadline[]> {
  const prefix = 'counts_month_';
  const months = (await db.listCollections({}, { nameOnly: true }).toArray())
    .map((c) => c.name)
    .filter((n) => n.startsWith(prefix))
    .map((n) => n.slice(prefix.length).replace('_', '-'))
    .sort();
  const out: ListedDeadline[] = [];
  for (const month of months) {
    if (out.length >= q.limit) break;
    const doc = await db.collection<ItemsDoc>(OVERDUE).findOne({ _id: month });
    for (const line of doc?.items ? doc.items.split('\n') : []) {
      const d = listed(line, 'overdue');
      if ((!q.stage || d.stage === q.stage) && (!q.agencyId || d.agencyId === q.agencyId)) out.push(d);
    }
  }
  return out.sort(byDue).slice(0, q.limit);
}

/** The open deadlines due in (now, now + withinHours] from the counts, soonest first: the same answer as the scan. */
export async function countsAtRisk(db: Db, q: { withinHours: number; now: number; limit?: number }): Promise<ListedDeadline[]> {
  const until = q.now + q.withinHours * 3600_000;
  const limit = q.limit ?? Infinity;
  // A due ends its local day (a 00:00 due belongs to the day before): every due in the window is on one of these days.
  const days: string[] = [];
  for (let day = localDate(q.now), last = localDate(until - 1); day <= last; day = addCalendarDays(day, 1)) days.push(day);
  const out: ListedDeadline[] = [];
  // A week of days at a time (one `_id` lookup each: FerretDB decodes only the document it returns),
  // stopping once the limit is met: every due of a day is before every due of the next.
  for (let i = 0; i < days.length && out.length < limit; i += 7) {
    const week = days.slice(i, i + 7);
    const docs = await Promise.all(week.map((day) => db.collection<ItemsDoc>(countsCollection('open', day.slice(0, 7))).findOne({ _id: day })));
    for (const doc of docs) {
      for (const line of doc?.items ? doc.items.split('\n') : []) {
        const d = listed(line, 'open');
        if (d.dueAt.getTime() > q.now && d.dueAt.getTime() <= until) out.push(d);
      }
    }
  }
  return out.sort(byDue).slice(0, limit);
}

// -------------------------------------------------------------- the writer

interface Member {
  v: number;
  day: string;
  key: string;
  state: DeadlineState;
  item: string;
}

/** A member as a line of a deadline list (see ItemsDoc). */
function listLine(id: string, m: Member): string {
  const [agency, procedure, stage, owner] = m.key.split('\t');
  return `${id}\t${agency}\t${procedure}\t${stage}\t${owner}\t${m.item}`;
}

/** Change records a pass reads at most; a pass that read this many may have left more. */
export const PASS_BATCH = 2000;

/** Another aggregator wrote the same day revision: this one's state is stale and must be reloaded. */
export class CountsConflictError extends Error {
  override name = 'CountsConflictError';
}

export interface PassResult {
  read: number;
  applied: number;
  ignored: number;
  daysWritten: number;
}

export interface VerifyResult {
  checked: number;
  /** Members added, changed or removed to match the records. */
  corrected: number;
  daysWritten: number;
}

/**
 * The single writer of members and counts. Run exactly one per database
 * (activities/compliance-counts.ts runs it under a singleton workflow): a
 * second one is detected when it appends a day revision the first already
 * wrote, and must reload.
 */
export class CountsAggregator {
  private members = new Map<string, Member>();
  private days = new Map<string, Set<string>>();
  private revs = new Map<string, number>();
  /** Ids a pass applied while a verification was reading the records: the pass saw a newer record than the read may have. */
  private touched: Set<string> | null = null;

  constructor(readonly db: Db) {}

  get size(): number {
    return this.members.size;
  }

  private async tableNames(): Promise<string[]> {
    const cs = await this.db.listCollections({}, { nameOnly: true }).toArray();
    return cs.map((c) => c.name).filter((n) => TABLE_NAME.test(n));
  }

  /** Drops every counts table and the state (benchmarks and tests; the next verification builds them again). */
  async drop(): Promise<void> {
    for (const name of [...(await this.tableNames()), OVERDUE, COUNTS_COLLECTIONS.meta]) await this.db.collection(name).drop().catch(() => undefined);
    this.members.clear();
    this.days.clear();
    this.revs.clear();
  }

  /** Rebuilds the in-memory state from the persisted members, healing what a crashed pass left. */
  async load(): Promise<{ days: number; healed: number }> {
    this.members.clear();
    this.days.clear();
    this.revs.clear();
    const names = await this.tableNames();
    const dirty = new Set<string>();
    for (const name of names.filter((n) => n.startsWith('counts_members_'))) {
      const docs = await this.db.collection<MembersDoc>(name).find({}).toArray();
      // The newest table of each day; older ones are what a crashed pass appended over.
      const newest = new Map<string, MembersDoc>();
      for (const d of docs) if ((newest.get(d.day)?.rev ?? 0) < d.rev) newest.set(d.day, d);
      const stale = docs.filter((d) => newest.get(d.day) !== d).map((d) => d._id);
      for (let i = 0; i < stale.length; i += 200) await this.db.collection<MembersDoc>(name).deleteMany({ _id: { $in: stale.slice(i, i + 200) } });
      for (const doc of newest.values()) {
        this.revs.set(doc.day, doc.rev);
        this.daySet(doc.day);
        for (const line of doc.m ? doc.m.split('\n') : []) {
          const [id, v, a, p, st, o, di, outcome, state, ...item] = line.split('\t') as [string, string, string, string, string, string, string, string, DeadlineState, ...string[]];
          const prev = this.members.get(id);
          // The same deadline in two days: a pass crashed during a move; the newer version wins.
          if (prev && prev.v >= Number(v)) {
            dirty.add(doc.day);
            continue;
          }
          if (prev) dirty.add(prev.day);
          this.put(id, { v: Number(v), day: doc.day, key: [a, p, st, o, di, outcome].join('\t'), state, item: item.join('\t') });
        }
      }
    }
    const counted = new Set<string>();
    const listedDays = new Set<string>();
    for (const name of names.filter((n) => n.startsWith('counts_days_'))) {
      for (const doc of await this.db.collection<DayDoc>(name).find({}, { projection: { src: 1 } }).toArray()) {
        counted.add(doc._id);
        if (doc.src !== this.revs.get(doc._id)) dirty.add(doc._id);
      }
    }
    for (const name of names.filter((n) => n.startsWith('counts_open_'))) {
      for (const doc of await this.db.collection<ItemsDoc>(name).find({}, { projection: { src: 1 } }).toArray()) {
        listedDays.add(doc._id);
        if (doc.src !== this.revs.get(doc._id)) dirty.add(doc._id);
      }
    }
    for (const day of this.revs.keys()) if (!counted.has(day) || !listedDays.has(day)) dirty.add(day);
    const overdueSrc = new Map((await this.db.collection<ItemsDoc>(OVERDUE).find({}, { projection: { src: 1 } }).toArray()).map((d) => [d._id, d.src]));
    const staleMonths = new Set<string>();
    for (const month of new Set([...this.revs.keys()].map((d) => d.slice(0, 7)))) {
      const docs = await Promise.all([
        this.db.collection<MonthDoc>(countsCollection('month', month)).findOne({ _id: 'month' }, { projection: { src: 1 } }),
        this.db.collection<MonthDoc>(countsCollection('byday', month)).findOne({ _id: 'byday' }, { projection: { src: 1 } }),
      ]);
      if (docs.some((d) => d?.src !== this.monthSrc(month)) || overdueSrc.get(month) !== this.monthSrc(month)) staleMonths.add(month);
    }
    await this.flush(dirty, staleMonths);
    return { days: this.revs.size, healed: dirty.size + staleMonths.size };
  }

  /**
   * Applies up to `limit` pending change records. `crashAfterDays` injects a
   * fault (tests, benchmark): it throws after writing that many days and the
   * next day's members but not its counts, before any record is deleted.
   */
  async pass(opts: { limit?: number; crashAfterDays?: number } = {}): Promise<PassResult> {
    const changes = this.db.collection<ChangeDoc>(COUNTS_COLLECTIONS.changes);
    // No filter and no sort: FerretDB pushes the limit down to SQLite.
    const batch = await changes
      .find({})
      .limit(opts.limit ?? PASS_BATCH)
      .toArray();
    if (!batch.length) return { read: 0, applied: 0, ignored: 0, daysWritten: 0 };
    batch.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.v - b.v));
    const dirty = new Set<string>();
    let applied = 0;
    for (const c of batch) {
      const prev = this.members.get(c.id);
      if (prev && prev.v >= c.v) continue;
      if (prev) dirty.add(prev.day);
      dirty.add(this.put(c.id, { v: c.v, day: c.day, key: c.key, state: c.state, item: c.item }));
      this.touched?.add(c.id);
      applied++;
    }
    const daysWritten = await this.flush(dirty, new Set(), opts.crashAfterDays);
    // Only now: a crash before this line leaves them pending, and they apply again idempotently.
    for (let i = 0; i < batch.length; i += 500) {
      await changes.deleteMany({ _id: { $in: batch.slice(i, i + 500).map((c) => c._id) } });
    }
    return { read: batch.length, applied, ignored: batch.length - applied, daysWritten };
  }

  /**
   * Makes the members match the deadline records read from `records` (the
   * backfill, and the backstop for drift). `between` runs after each batch
   * (passes, heartbeats): a deadline a pass applies meanwhile keeps what the
   * pass wrote, which is at least as new as what the read saw.
   */
  async verify(records: AsyncIterable<CountedRecord[]> | Iterable<CountedRecord[]>, opts: { between?: () => Promise<void> } = {}): Promise<VerifyResult> {
    this.touched = new Set();
    const seen = new Set<string>();
    const dirty = new Set<string>();
    let checked = 0;
    let corrected = 0;
    let daysWritten = 0;
    try {
      for await (const batch of records) {
        for (const r of batch) {
          checked++;
          seen.add(r._id);
          if (this.touched.has(r._id)) continue;
          const c = changeOf(r);
          const prev = this.members.get(c.id);
          if (prev && prev.v === c.v && prev.day === c.day && prev.key === c.key && prev.state === c.state && prev.item === c.item) continue;
          if (prev) dirty.add(prev.day);
          dirty.add(this.put(c.id, { v: c.v, day: c.day, key: c.key, state: c.state, item: c.item }));
          corrected++;
        }
        // Corrections are written once at the end: a day touched by every batch is then written once, not once per batch.
        await opts.between?.();
      }
      // A member the read never saw had no record when the read began (a record that existed is
      // replaced in place, so the read sees it); unless a pass applied it since, it is gone.
      for (const [id, m] of [...this.members]) {
        if (seen.has(id) || this.touched.has(id)) continue;
        this.members.delete(id);
        this.days.get(m.day)?.delete(id);
        dirty.add(m.day);
        corrected++;
      }
      daysWritten += await this.flush(dirty);
    } finally {
      this.touched = null;
    }
    const now = new Date();
    const meta = this.db.collection<CountsState>(COUNTS_COLLECTIONS.meta);
    const builtAt = (await meta.findOne({ _id: 'state' }))?.builtAt ?? now;
    await meta.replaceOne({ _id: 'state' }, { builtAt, verifiedAt: now, corrected }, { upsert: true });
    return { checked, corrected, daysWritten };
  }

  private daySet(day: string): Set<string> {
    let s = this.days.get(day);
    if (!s) this.days.set(day, (s = new Set()));
    return s;
  }

  /** Sets a member (moving it out of its previous day); returns its day. */
  private put(id: string, m: Member): string {
    const prev = this.members.get(id);
    if (prev && prev.day !== m.day) this.days.get(prev.day)?.delete(id);
    this.members.set(id, m);
    this.daySet(m.day).add(id);
    return m.day;
  }

  private membersDoc(day: string): MembersDoc {
    const rev = this.revs.get(day)!;
    const lines = [...(this.days.get(day) ?? [])].sort().map((id) => {
      const m = this.members.get(id)!;
      return `${id}\t${m.v}\t${m.key}\t${m.state}\t${m.item}`;
    });
    return { _id: `${day}@${rev}`, day, rev, m: lines.join('\n') };
  }

  private dayDoc(day: string): DayDoc {
    const rows = new Map<string, number[]>();
    for (const id of this.days.get(day) ?? []) {
      const m = this.members.get(id)!;
      bump(rows, m.key, m.state);
    }
    return { _id: day, src: this.revs.get(day)!, ...encode(rows) };
  }

  /** The day's open deadlines, for the at-risk list. */
  private openDoc(day: string): ItemsDoc {
    const lines: string[] = [];
    for (const id of [...(this.days.get(day) ?? [])].sort()) {
      const m = this.members.get(id)!;
      if (m.state === 'open') lines.push(listLine(id, m));
    }
    return { _id: day, src: this.revs.get(day)!, items: lines.join('\n') };
  }

  private monthSrc(month: string): string {
    return [...this.revs.entries()]
      .filter(([d]) => d.startsWith(month))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([d, r]) => `${d}:${r}`)
      .join(',');
  }

  /** The month's two roll-ups and its overdue deadlines, derived from its members. */
  private async writeMonth(month: string): Promise<void> {
    const all = new Map<string, number[]>();
    const byDay = new Map<string, number[]>();
    const overdue: string[] = [];
    for (const [day, ids] of this.days) {
      if (!day.startsWith(month)) continue;
      for (const id of ids) {
        const m = this.members.get(id)!;
        if (m.state === 'overdue') overdue.push(listLine(id, m));
        bump(all, m.key, m.state);
        const [, , stage, owner, , outcome] = m.key.split('\t');
        bump(byDay, `${day}\t${stage}\t${owner}\t${outcome}`, m.state);
      }
    }
    const src = this.monthSrc(month);
    await this.db.collection<MonthDoc>(countsCollection('month', month)).replaceOne({ _id: 'month' }, { src, ...encode(all) }, { upsert: true });
    await this.db.collection<MonthDoc>(countsCollection('byday', month)).replaceOne({ _id: 'byday' }, { src, ...encode(byDay) }, { upsert: true });
    await this.db.collection<ItemsDoc>(OVERDUE).replaceOne({ _id: month }, { src, items: overdue.sort().join('\n') }, { upsert: true });
  }

  /**
   * For each day: appends its members as a new revision (the optimistic lock),
   * replaces its counts, drops the previous revision; then the roll-ups of the
   * months touched.
   */
  private async flush(days: Set<string>, extraMonths: Set<string> = new Set(), crashAfterDays?: number): Promise<number> {
    let written = 0;
    const months = new Set(extraMonths);
    for (const day of [...days].sort()) {
      const month = day.slice(0, 7);
      months.add(month);
      const previous = this.revs.get(day) ?? 0;
      this.revs.set(day, previous + 1);
      const members = this.db.collection<MembersDoc>(countsCollection('members', month));
      try {
        await members.insertOne(this.membersDoc(day));
      } catch (err) {
        if (isDuplicateKey(err)) throw new CountsConflictError(`counts of ${day} revision ${previous + 1} were written by another aggregator`);
        throw err;
      }
      if (written === crashAfterDays) throw new Error(`injected fault: crash after ${written} days and the next day's members, before its counts`);
      await this.db.collection<DayDoc>(countsCollection('days', month)).replaceOne({ _id: day }, this.dayDoc(day), { upsert: true });
      await this.db.collection<ItemsDoc>(countsCollection('open', month)).replaceOne({ _id: day }, this.openDoc(day), { upsert: true });
      if (previous) await members.deleteOne({ _id: `${day}@${previous}` });
      written++;
    }
    for (const month of [...months].sort()) await this.writeMonth(month);
    return written;
  }
}
