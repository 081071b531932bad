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
 * - `counts_members_YYYY_MM`: the aggregator's state, each due day's member
 *   table (deadline id → version, dimensions, state) as `<day>@<rev>`.
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
type TableKind = 'days' | 'month' | 'byday' | 'members';
const TABLE_NAME = /^counts_(days|month|byday|members)_\d{4}_\d{2}$/;

export function countsCollection(kind: TableKind, month: string): string {
  return `counts_${kind}_${month.replace('-', '_')}`;
}

/** A deadline record as the counts see it. */
export type CountedRecord = SummaryRecord & Pick<DeadlineDoc, '_id' | 'version'>;

/** What the projection inserts next to each deadline write. */
export interface ChangeDoc {
  _id: string;
  id: string;
  v: number;
  day: string;
  /** agencyId, procedureCode, stage, owner, district, Decision 766 outcome, joined by tabs. */
  key: string;
  state: DeadlineState;
}

/** The dimensions a summary groups or filters on, and Decision 766's outcome, judged on the same record. */
export function changeOf(d: CountedRecord): ChangeDoc {
  const key = [d.agencyId, d.procedureCode, d.stage, d.owner, d.district, decision766Outcome(d)].join('\t');
  return { _id: `${d._id}@${d.version}`, id: d._id, v: d.version, day: d.dueDay, key, state: d.state };
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
  const dict = table.dict.split('\t');
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
  /** `id \t v \t agency \t procedure \t stage \t owner \t district \t outcome \t state` lines. */
  m: string;
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

/** Which table a month of the window is read from. */
export type CountsPath = 'month' | 'byday' | 'days';

/** The smallest table that answers the query for one month of its window. */
export function countsPathFor(q: SummaryQuery, month: string): CountsPath {
  const g = q.groupBy ?? 'agency';
  const needsDims = q.agencyId || q.procedureCode || g === 'agency' || g === 'procedure' || g === 'district';
  if (!needsDims) return 'byday';
  if (q.from <= `${month}-01` && q.to >= lastDayOf(month) && g !== 'day') return 'month';
  return 'days';
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
  const full = (month: string, day: string | undefined, [agencyId, procedureCode, stage, owner, district, outcome]: string[]) => ({
    dims: { agencyId, procedureCode, stage, owner, district, day, month },
    outcome: outcome as Decision766Outcome,
  });
  // Fetched concurrently, tallied in month order so the result never depends on timing.
  const months = monthsBetween(q.from, q.to);
  const tables = await Promise.all(
    months.map(async (month) => {
      const path = countsPathFor(q, month);
      if (path === 'days') return { month, path, docs: await db.collection<DayDoc>(countsCollection('days', month)).find({ _id: { $gte: q.from, $lte: q.to } }).toArray() };
      return { month, path, docs: [await db.collection<MonthDoc>(countsCollection(path, month)).findOne({ _id: path })] };
    }),
  );
  for (const { month, path, docs } of tables) {
    for (const doc of docs) {
      if (path === 'month') {
        for (const { dims, n } of decode(doc, 6)) {
          const r = full(month, undefined, dims);
          take(r.dims, n, r.outcome);
        }
      } else if (path === 'byday') {
        for (const { dims: [day, stage, owner, outcome], n } of decode(doc, 4)) {
          if (day! >= q.from && day! <= q.to) take({ day, stage, owner, month }, n, outcome as Decision766Outcome);
        }
      } else {
        for (const { dims, n } of decode(doc, 6)) {
          const r = full(month, doc!._id, dims);
          take(r.dims, n, r.outcome);
        }
      }
    }
  }
  return summaryOf(groups, totals);
}

// -------------------------------------------------------------- the writer

interface Member {
  v: number;
  day: string;
  key: string;
  state: DeadlineState;
}

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
    for (const name of [...(await this.tableNames()), COUNTS_COLLECTIONS.meta]) await this.db.collection(name).drop().catch(() => undefined);
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
          const [id, v, a, p, st, o, di, outcome, state] = line.split('\t') as [string, string, string, string, string, string, string, string, DeadlineState];
          const prev = this.members.get(id);
          // The same deadline in two days: a pass crashed during a move; the newer version wins.
          if (prev && prev.v >= Number(v)) {
            dirty.add(doc.day);
            continue;
          }
          if (prev) dirty.add(prev.day);
          this.put(id, { v: Number(v), day: doc.day, key: [a, p, st, o, di, outcome].join('\t'), state });
        }
      }
    }
    const counted = new Set<string>();
    for (const name of names.filter((n) => n.startsWith('counts_days_'))) {
      for (const doc of await this.db.collection<DayDoc>(name).find({}, { projection: { src: 1 } }).toArray()) {
        counted.add(doc._id);
        if (doc.src !== this.revs.get(doc._id)) dirty.add(doc._id);
      }
    }
    for (const day of this.revs.keys()) if (!counted.has(day)) dirty.add(day);
    const staleMonths = new Set<string>();
    for (const month of new Set([...this.revs.keys()].map((d) => d.slice(0, 7)))) {
      const docs = await Promise.all([
        this.db.collection<MonthDoc>(countsCollection('month', month)).findOne({ _id: 'month' }, { projection: { src: 1 } }),
        this.db.collection<MonthDoc>(countsCollection('byday', month)).findOne({ _id: 'byday' }, { projection: { src: 1 } }),
      ]);
      if (docs.some((d) => d?.src !== this.monthSrc(month))) staleMonths.add(month);
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
      .limit(opts.limit ?? 2000)
      .toArray();
    if (!batch.length) return { read: 0, applied: 0, ignored: 0, daysWritten: 0 };
    batch.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.v - b.v));
    const dirty = new Set<string>();
    let applied = 0;
    for (const c of batch) {
      const prev = this.members.get(c.id);
      if (prev && prev.v >= c.v) continue;
      if (prev) dirty.add(prev.day);
      dirty.add(this.put(c.id, { v: c.v, day: c.day, key: c.key, state: c.state }));
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
          if (prev && prev.v === c.v && prev.day === c.day && prev.key === c.key && prev.state === c.state) continue;
          if (prev) dirty.add(prev.day);
          dirty.add(this.put(c.id, { v: c.v, day: c.day, key: c.key, state: c.state }));
          corrected++;
        }
        if (dirty.size) {
          daysWritten += await this.flush(dirty);
          dirty.clear();
        }
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
      return `${id}\t${m.v}\t${m.key}\t${m.state}`;
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

  private monthSrc(month: string): string {
    return [...this.revs.entries()]
      .filter(([d]) => d.startsWith(month))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([d, r]) => `${d}:${r}`)
      .join(',');
  }

  /** The month's two roll-ups, derived from its members. */
  private async writeMonth(month: string): Promise<void> {
    const all = new Map<string, number[]>();
    const byDay = new Map<string, number[]>();
    for (const [day, ids] of this.days) {
      if (!day.startsWith(month)) continue;
      for (const id of ids) {
        const m = this.members.get(id)!;
        bump(all, m.key, m.state);
        const [, , stage, owner, , outcome] = m.key.split('\t');
        bump(byDay, `${day}\t${stage}\t${owner}\t${outcome}`, m.state);
      }
    }
    const src = this.monthSrc(month);
    await this.db.collection<MonthDoc>(countsCollection('month', month)).replaceOne({ _id: 'month' }, { src, ...encode(all) }, { upsert: true });
    await this.db.collection<MonthDoc>(countsCollection('byday', month)).replaceOne({ _id: 'byday' }, { src, ...encode(byDay) }, { upsert: true });
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
      if (previous) await members.deleteOne({ _id: `${day}@${previous}` });
      written++;
    }
    for (const month of [...months].sort()) await this.writeMonth(month);
    return written;
  }
}
