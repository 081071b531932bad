/**
 * Prototype (bench only, not wired into store/ or api/): compliance counts
 * pre-aggregated by an aggregator, kept exact on FerretDB 1.24 without
 * transactions.
 *
 * Why this shape, from what FerretDB 1.24 (SQLite backend) does:
 * - no filter but `_id` equality reaches SQLite, and even that one scans the
 *   table (its `_id` index expression differs from the query's): every read
 *   costs the size of the collection it reads, so each month's counts live in
 *   small collections of their own, read whole;
 * - FerretDB decodes a stored document at roughly 50 ns a byte: the counts
 *   are compact text tables (dictionary-coded lines), a few per query;
 * - an update reads the document, changes it in Go and writes it back with
 *   no lock in between, so concurrent `$inc`/`$set` on one document lose
 *   writes: the counts have a single writer, the aggregator.
 *
 * Per due month `YYYY_MM`, three tables derived from the members:
 * - `days_YYYY_MM`: one document per due day, every dimension (any query);
 * - `month_YYYY_MM`: the month without the day (full-month windows);
 * - `byday_YYYY_MM`: day × stage × owner (grouping by day, stage, owner or
 *   month, filtered by stage at most).
 *
 * Exactness without transactions:
 * - writers (the projection) only insert change records keyed
 *   `<deadlineId>@<version>`: a retry or a duplicate is a duplicate key;
 * - the aggregator keeps, per due day, the member table (deadline id →
 *   version, key, state), appended as `<day>@<rev>` (an insert: no scan, no
 *   lost update), and derives every count from the members;
 * - a change older than or equal to the member's version is ignored
 *   (retries, replays, zombie attempts);
 * - change records are deleted only after everything they touch is written;
 * - a crash between writes is healed by `load()` (the newest member table
 *   wins, a deadline in two days keeps its newer version, counts whose `src`
 *   is not their members' revision are recomputed) and by the change records
 *   still pending.
 */
import type { Db } from 'mongodb';
import { decision766Outcome, type Counts, type Decision766Outcome, type GroupBy, type Summary, type SummaryQuery } from '../store/compliance';
import type { DeadlineDoc } from '../store/read-model';

type State = DeadlineDoc['state'];
const STATES: State[] = ['met_on_time', 'met_late', 'open', 'overdue'];

/** What the projection would insert next to each deadline write. */
export interface ChangeDoc {
  _id: string;
  id: string;
  v: number;
  day: string;
  /** agencyId, procedureCode, stage, owner, district, Decision 766 outcome, joined by tabs. */
  key: string;
  state: State;
}

/** The dimensions a summary groups or filters on, plus Decision 766's outcome (judged when the change is made). */
export function changeOf(d: DeadlineDoc): ChangeDoc {
  const key = [d.agencyId, d.procedureCode, d.stage, d.owner, d.district, decision766Outcome(d)].join('\t');
  return { _id: `${d._id}@${d.version}`, id: d._id, v: d.version, day: d.dueDay, key, state: d.state };
}

// ------------------------------------------------------------ text tables

/**
 * A table of dimension tuples with four state counts, as two strings: the
 * dictionary (tab-separated values) and lines of dictionary indexes then
 * counts. Self-contained per document: no shared dictionary to keep in step.
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

function* decode(table: Table, width: number): Generator<{ dims: string[]; n: number[] }> {
  if (!table.t) return;
  const dict = table.dict.split('\t');
  for (const line of table.t.split('\n')) {
    const f = line.split(' ');
    yield { dims: f.slice(0, width).map((c) => dict[Number(c)]), n: f.slice(width).map(Number) };
  }
}

function bump(rows: Map<string, number[]>, dims: string, state: State, by = 1): void {
  let n = rows.get(dims);
  if (!n) rows.set(dims, (n = [0, 0, 0, 0]));
  n[STATES.indexOf(state)] += by;
}

// ------------------------------------------------------------------ reads

interface DayDoc extends Table {
  _id: string;
  /** The members revision these counts were derived from. */
  src: number;
}

interface MonthDoc extends Table {
  _id: 'month' | 'byday';
  /** `day:rev` of every member table of the month the counts were derived from. */
  src: string;
}

interface MembersDoc {
  _id: string;
  day: string;
  rev: number;
  /** `id \t v \t key \t state` lines. */
  m: string;
}

const lastDay = (month: string): string => {
  const [y, m] = month.split('-').map(Number);
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
};

interface Tally {
  total: number;
  metOnTime: number;
  metLate: number;
  open: number;
  overdue: number;
  processing: number;
  onTime: number;
  late: number;
  unjudged: number;
}

const emptyTally = (): Tally => ({ total: 0, metOnTime: 0, metLate: 0, open: 0, overdue: 0, processing: 0, onTime: 0, late: 0, unjudged: 0 });

function add(t: Tally, n: number[], outcome: Decision766Outcome): void {
  const all = n[0] + n[1] + n[2] + n[3];
  t.total += all;
  t.metOnTime += n[0];
  t.metLate += n[1];
  t.open += n[2];
  t.overdue += n[3];
  if (outcome !== 'not_applicable') t.processing += all;
  if (outcome === 'on_time') t.onTime += all;
  else if (outcome === 'late') t.late += all;
  else if (outcome === 'unjudged') t.unjudged += all;
}

const rate = (n: number, d: number): number | null => (d === 0 ? null : n / d);

/** The same figures as store/compliance.ts summarize() (the bench checks every result against it). */
function finish(t: Tally): Counts {
  return {
    total: t.total,
    metOnTime: t.metOnTime,
    metLate: t.metLate,
    open: t.open,
    overdue: t.overdue,
    onTimeRate: rate(t.metOnTime, t.metOnTime + t.metLate + t.overdue),
    decision766:
      t.processing === 0 ? null : { resolved: t.onTime + t.late, onTime: t.onTime, late: t.late, onTimeRate: rate(t.onTime, t.onTime + t.late), unjudged: t.unjudged },
  };
}

/** Which table a month of the window is read from. */
export type CountsPath = 'month' | 'byday' | 'days';

export class CountsStore {
  constructor(
    readonly db: Db,
    readonly prefix = 'compliance_',
  ) {}

  name(table: 'days' | 'month' | 'byday' | 'members', month: string): string {
    return `${this.prefix}${table}_${month.replace('-', '_')}`;
  }
  get changesName(): string {
    return `${this.prefix}changes`;
  }

  /** Inserts a change record; a retry or a duplicate is a no-op. */
  async recordChange(c: ChangeDoc): Promise<void> {
    try {
      await this.db.collection<ChangeDoc>(this.changesName).insertOne(c);
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
  }

  /** The smallest table that answers the query for one month of the window. */
  pathFor(q: SummaryQuery, month: string): CountsPath {
    const g = q.groupBy ?? 'agency';
    const needsDims = q.agencyId || q.procedureCode || g === 'agency' || g === 'procedure' || g === 'district';
    if (!needsDims) return 'byday';
    if (q.from <= `${month}-01` && q.to >= lastDay(month) && g !== 'day') return 'month';
    return 'days';
  }

  /** The summary from the counts: same contract and figures as complianceSummary. */
  async summary(q: SummaryQuery): Promise<Summary & { paths: CountsPath[] }> {
    const g: GroupBy = q.groupBy ?? 'agency';
    const groups = new Map<string, Tally>();
    const totals = emptyTally();
    const take = (dims: Record<string, string>, n: number[], outcome: Decision766Outcome) => {
      if ((q.stage && dims.stage !== q.stage) || (q.agencyId && dims.agencyId !== q.agencyId) || (q.procedureCode && dims.procedureCode !== q.procedureCode)) return;
      const key = dims[g];
      let t = groups.get(key);
      if (!t) groups.set(key, (t = emptyTally()));
      add(t, n, outcome);
      add(totals, n, outcome);
    };
    const months = monthsBetween(q.from, q.to);
    const paths = months.map((m) => this.pathFor(q, m));
    await Promise.all(
      months.map(async (month, i) => {
        if (paths[i] === 'month') {
          const doc = await this.db.collection<MonthDoc>(this.name('month', month)).findOne({});
          for (const { dims: [agency, procedure, stage, owner, district, outcome], n } of decode(doc ?? { dict: '', t: '' }, 6)) {
            take({ agency, agencyId: agency, procedure, procedureCode: procedure, stage, owner, district, month }, n, outcome as Decision766Outcome);
          }
        } else if (paths[i] === 'byday') {
          const doc = await this.db.collection<MonthDoc>(this.name('byday', month)).findOne({});
          for (const { dims: [day, stage, owner, outcome], n } of decode(doc ?? { dict: '', t: '' }, 4)) {
            if (day >= q.from && day <= q.to) take({ day, stage, owner, month }, n, outcome as Decision766Outcome);
          }
        } else {
          const docs = await this.db.collection<DayDoc>(this.name('days', month)).find({ _id: { $gte: q.from, $lte: q.to } }).toArray();
          for (const doc of docs) {
            for (const { dims: [agency, procedure, stage, owner, district, outcome], n } of decode(doc, 6)) {
              take({ agency, agencyId: agency, procedure, procedureCode: procedure, stage, owner, district, day: doc._id, month }, n, outcome as Decision766Outcome);
            }
          }
        }
      }),
    );
    const rows = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, t]) => ({ key, ...finish(t) }));
    return { rows, totals: finish(totals), paths };
  }
}

export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.slice(0, 7).split('-').map(Number);
  const end = to.slice(0, 7);
  for (;;) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (month > end) return out;
    out.push(month);
    if (++m === 13) [y, m] = [y + 1, 1];
  }
}

// -------------------------------------------------------------- the writer

interface Member {
  v: number;
  day: string;
  key: string;
  state: State;
}

export interface PassResult {
  read: number;
  applied: number;
  ignored: number;
  daysWritten: number;
  ms: number;
}

/**
 * The single writer of members and counts. Run one per deployment (a
 * singleton Temporal workflow, for instance): FerretDB 1.24 loses concurrent
 * updates to one document.
 */
export class CountsAggregator {
  private members = new Map<string, Member>();
  private days = new Map<string, Set<string>>();
  private revs = new Map<string, number>();

  constructor(readonly store: CountsStore) {}

  private collections(): Promise<string[]> {
    return this.store.db
      .listCollections({}, { nameOnly: true })
      .toArray()
      .then((cs) => cs.map((c) => c.name).filter((n) => n.startsWith(this.store.prefix) && n !== this.store.changesName));
  }

  /**
   * Builds members and counts from scratch out of known records (a backfill,
   * or a reconcile from the deadlines collection): drops what exists, then
   * inserts in bulk.
   */
  async rebuild(records: Iterable<DeadlineDoc>): Promise<number> {
    for (const name of await this.collections()) await this.store.db.collection(name).drop();
    this.members.clear();
    this.days.clear();
    this.revs.clear();
    for (const d of records) {
      const c = changeOf(d);
      this.put(c.id, { v: c.v, day: c.day, key: c.key, state: c.state });
    }
    const byMonth = new Map<string, string[]>();
    for (const day of [...this.days.keys()].sort()) {
      const m = day.slice(0, 7);
      if (!byMonth.has(m)) byMonth.set(m, []);
      byMonth.get(m)!.push(day);
    }
    const { db } = this.store;
    for (const [month, days] of byMonth) {
      for (const day of days) this.revs.set(day, 1);
      await db.collection<MembersDoc>(this.store.name('members', month)).insertMany(days.map((day) => this.membersDoc(day)));
      await db.collection<DayDoc>(this.store.name('days', month)).insertMany(days.map((day) => this.dayDoc(day)));
      await this.writeMonth(month);
    }
    return this.days.size;
  }

  /** Rebuilds the in-memory state from the persisted members, healing what a crashed pass left. */
  async load(): Promise<{ days: number; healed: number }> {
    this.members.clear();
    this.days.clear();
    this.revs.clear();
    const { db, prefix } = this.store;
    const names = await this.collections();
    const dirty = new Set<string>();
    for (const name of names.filter((n) => n.startsWith(`${prefix}members_`))) {
      const docs = await db.collection<MembersDoc>(name).find({}).toArray();
      // The newest table of each day; older ones are what a later pass appended over.
      const newest = new Map<string, MembersDoc>();
      for (const d of docs) if ((newest.get(d.day)?.rev ?? 0) < d.rev) newest.set(d.day, d);
      const stale = docs.filter((d) => newest.get(d.day) !== d).map((d) => d._id);
      for (let i = 0; i < stale.length; i += 200) await db.collection<MembersDoc>(name).deleteMany({ _id: { $in: stale.slice(i, i + 200) } });
      for (const doc of newest.values()) {
        this.revs.set(doc.day, doc.rev);
        this.daySet(doc.day);
        for (const line of doc.m ? doc.m.split('\n') : []) {
          const [id, v, a, p, st, o, di, outcome, state] = line.split('\t');
          const prev = this.members.get(id);
          // The same deadline in two days: a pass crashed during a move; the newer version wins.
          if (prev && prev.v >= Number(v)) {
            dirty.add(doc.day);
            continue;
          }
          if (prev) dirty.add(prev.day);
          this.put(id, { v: Number(v), day: doc.day, key: [a, p, st, o, di, outcome].join('\t'), state: state as State });
        }
      }
    }
    const counted = new Set<string>();
    for (const name of names.filter((n) => n.startsWith(`${prefix}days_`))) {
      for (const doc of await db.collection<DayDoc>(name).find({}, { projection: { src: 1 } }).toArray()) {
        counted.add(doc._id);
        if (doc.src !== this.revs.get(doc._id)) dirty.add(doc._id);
      }
    }
    for (const day of this.revs.keys()) if (!counted.has(day)) dirty.add(day);
    const staleMonths = new Set<string>();
    for (const month of new Set([...this.revs.keys()].map((d) => d.slice(0, 7)))) {
      const docs = await Promise.all([
        db.collection<MonthDoc>(this.store.name('month', month)).findOne({}, { projection: { src: 1 } }),
        db.collection<MonthDoc>(this.store.name('byday', month)).findOne({}, { projection: { src: 1 } }),
      ]);
      if (docs.some((d) => d?.src !== this.monthSrc(month))) staleMonths.add(month);
    }
    await this.flush(dirty, { months: staleMonths });
    return { days: this.revs.size, healed: dirty.size + staleMonths.size };
  }

  /**
   * Applies pending change records. `crashAfterDays` (tests only) throws after
   * writing that many days and the next day's members (not its counts),
   * before any change record is deleted.
   */
  async pass(opts: { limit?: number; crashAfterDays?: number } = {}): Promise<PassResult> {
    const t0 = performance.now();
    const changes = this.store.db.collection<ChangeDoc>(this.store.changesName);
    // No filter and no sort: FerretDB pushes the limit down to SQLite.
    const batch = await changes.find({}).limit(opts.limit ?? 2000).toArray();
    batch.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.v - b.v));
    const dirty = new Set<string>();
    let applied = 0;
    for (const c of batch) {
      const prev = this.members.get(c.id);
      if (prev && prev.v >= c.v) continue;
      if (prev) dirty.add(prev.day);
      dirty.add(this.put(c.id, { v: c.v, day: c.day, key: c.key, state: c.state }));
      applied++;
    }
    const daysWritten = await this.flush(dirty, { crashAfterDays: opts.crashAfterDays });
    // Only now: a crash before this line leaves them pending, and they apply again idempotently.
    for (let i = 0; i < batch.length; i += 500) {
      await changes.deleteMany({ _id: { $in: batch.slice(i, i + 500).map((c) => c._id) } });
    }
    return { read: batch.length, applied, ignored: batch.length - applied, daysWritten, ms: performance.now() - t0 };
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
    const { db } = this.store;
    const monthDoc: MonthDoc = { _id: 'month', src, ...encode(all) };
    const byDayDoc: MonthDoc = { _id: 'byday', src, ...encode(byDay) };
    await db.collection<MonthDoc>(this.store.name('month', month)).replaceOne({ _id: 'month' }, monthDoc, { upsert: true });
    await db.collection<MonthDoc>(this.store.name('byday', month)).replaceOne({ _id: 'byday' }, byDayDoc, { upsert: true });
  }

  /** Appends each day's members, replaces its counts, then the roll-ups of the months touched. */
  private async flush(days: Set<string>, opts: { months?: Set<string>; crashAfterDays?: number } = {}): Promise<number> {
    const { db } = this.store;
    let written = 0;
    const months = new Set(opts.months);
    for (const day of [...days].sort()) {
      const month = day.slice(0, 7);
      months.add(month);
      this.revs.set(day, (this.revs.get(day) ?? 0) + 1);
      await db.collection<MembersDoc>(this.store.name('members', month)).insertOne(this.membersDoc(day));
      if (written === opts.crashAfterDays) throw new Error(`simulated crash after ${written} days and the next day's members, before its counts`);
      await db.collection<DayDoc>(this.store.name('days', month)).replaceOne({ _id: day }, this.dayDoc(day), { upsert: true });
      written++;
    }
    for (const month of months) await this.writeMonth(month);
    return written;
  }
}
