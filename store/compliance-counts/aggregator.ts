/**
 * The compliance counts' single writer: applies change records to its
 * members (one per deadline), derives every count and list from them, and
 * heals what a crashed pass left. docs/COMPLIANCE-PERFORMANCE.md says why
 * this is exact without transactions.
 */
import type { Db } from 'mongodb';
import { isDuplicateKey } from '../db';
import { bump, decodeKey, decodeMemberLine, encodeByDayKey, encodeListLine, encodeMemberLine, encodeTable, type Member, type StateCounts } from './codec';
import { changeOf, type CountedRecord } from './changes';
import { COUNTS_COLLECTIONS, countsCollection, countsTables, type ChangeDoc, type CountsState, type DayCountsDoc, type ListDoc, type MembersDoc, type MonthCountsDoc } from './tables';

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

  /** Rebuilds the in-memory state from the persisted members, healing what a crashed pass left. */
  async load(): Promise<{ days: number; healed: number }> {
    this.members.clear();
    this.days.clear();
    this.revs.clear();
    const tables = await countsTables(this.db);
    const named = (kind: string) => tables.filter((t) => t.kind === kind).map((t) => t.name);
    const dirty = new Set<string>();
    for (const name of named('members')) {
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
          const { id, member } = decodeMemberLine(line, doc.day);
          const prev = this.members.get(id);
          // The same deadline in two days: a pass crashed during a move; the newer version wins.
          if (prev && prev.v >= member.v) {
            dirty.add(doc.day);
            continue;
          }
          if (prev) dirty.add(prev.day);
          this.put(id, member);
        }
      }
    }
    const counted = new Set<string>();
    const listedDays = new Set<string>();
    for (const name of named('days')) {
      for (const doc of await this.db.collection<DayCountsDoc>(name).find({}, { projection: { src: 1 } }).toArray()) {
        counted.add(doc._id);
        if (doc.src !== this.revs.get(doc._id)) dirty.add(doc._id);
      }
    }
    for (const name of named('open')) {
      for (const doc of await this.db.collection<ListDoc>(name).find({}, { projection: { src: 1 } }).toArray()) {
        listedDays.add(doc._id);
        if (doc.src !== this.revs.get(doc._id)) dirty.add(doc._id);
      }
    }
    for (const day of this.revs.keys()) if (!counted.has(day) || !listedDays.has(day)) dirty.add(day);
    const overdueSrc = new Map((await this.db.collection<ListDoc>(COUNTS_COLLECTIONS.overdue).find({}, { projection: { src: 1 } }).toArray()).map((d) => [d._id, d.src]));
    const staleMonths = new Set<string>();
    for (const month of new Set([...this.revs.keys()].map((d) => d.slice(0, 7)))) {
      const docs = await Promise.all([
        this.db.collection<MonthCountsDoc>(countsCollection('month', month)).findOne({ _id: 'month' }, { projection: { src: 1 } }),
        this.db.collection<MonthCountsDoc>(countsCollection('byday', month)).findOne({ _id: 'byday' }, { projection: { src: 1 } }),
      ]);
      if (docs.some((d) => d?.src !== this.monthSource(month)) || overdueSrc.get(month) !== this.monthSource(month)) staleMonths.add(month);
    }
    await this.flush(dirty, staleMonths);
    return { days: this.revs.size, healed: dirty.size + staleMonths.size };
  }

  /** Applies up to `limit` pending change records. */
  async pass(opts: { limit?: number } = {}): Promise<PassResult> {
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
      dirty.add(this.put(c.id, memberOf(c)));
      this.touched?.add(c.id);
      applied++;
    }
    const daysWritten = await this.flush(dirty);
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
          dirty.add(this.put(c.id, memberOf(c)));
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
    const lines = [...(this.days.get(day) ?? [])].sort().map((id) => encodeMemberLine(id, this.members.get(id)!));
    return { _id: `${day}@${rev}`, day, rev, m: lines.join('\n') };
  }

  private dayDoc(day: string): DayCountsDoc {
    const rows = new Map<string, StateCounts>();
    for (const id of this.days.get(day) ?? []) {
      const m = this.members.get(id)!;
      bump(rows, m.key, m.state);
    }
    return { _id: day, src: this.revs.get(day)!, ...encodeTable(rows) };
  }

  /** The day's open deadlines, for the at-risk list. */
  private openDoc(day: string): ListDoc {
    const lines: string[] = [];
    for (const id of [...(this.days.get(day) ?? [])].sort()) {
      const m = this.members.get(id)!;
      if (m.state === 'open') lines.push(encodeListLine(id, m));
    }
    return { _id: day, src: this.revs.get(day)!, items: lines.join('\n') };
  }

  /** `day:rev` of every day of the month: what its roll-ups were derived from. */
  private monthSource(month: string): string {
    return [...this.revs.entries()]
      .filter(([d]) => d.startsWith(month))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([d, r]) => `${d}:${r}`)
      .join(',');
  }

  /** The month's two roll-ups and its overdue deadlines, derived from its members. */
  private async writeMonth(month: string): Promise<void> {
    const all = new Map<string, StateCounts>();
    const byDay = new Map<string, StateCounts>();
    const overdue: string[] = [];
    for (const [day, ids] of this.days) {
      if (!day.startsWith(month)) continue;
      for (const id of ids) {
        const m = this.members.get(id)!;
        if (m.state === 'overdue') overdue.push(encodeListLine(id, m));
        bump(all, m.key, m.state);
        const { stage, owner, outcome } = decodeKey(m.key);
        bump(byDay, encodeByDayKey({ day, stage, owner, outcome }), m.state);
      }
    }
    const src = this.monthSource(month);
    await this.db.collection<MonthCountsDoc>(countsCollection('month', month)).replaceOne({ _id: 'month' }, { src, ...encodeTable(all) }, { upsert: true });
    await this.db.collection<MonthCountsDoc>(countsCollection('byday', month)).replaceOne({ _id: 'byday' }, { src, ...encodeTable(byDay) }, { upsert: true });
    await this.db.collection<ListDoc>(COUNTS_COLLECTIONS.overdue).replaceOne({ _id: month }, { src, items: overdue.sort().join('\n') }, { upsert: true });
  }

  /**
   * For each day: appends its members as a new revision (the optimistic lock),
   * replaces its counts, drops the previous revision; then the roll-ups of the
   * months touched.
   */
  private async flush(days: Set<string>, extraMonths: Set<string> = new Set()): Promise<number> {
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
      await this.db.collection<DayCountsDoc>(countsCollection('days', month)).replaceOne({ _id: day }, this.dayDoc(day), { upsert: true });
      await this.db.collection<ListDoc>(countsCollection('open', month)).replaceOne({ _id: day }, this.openDoc(day), { upsert: true });
      if (previous) await members.deleteOne({ _id: `${day}@${previous}` });
      written++;
    }
    for (const month of [...months].sort()) await this.writeMonth(month);
    return written;
  }
}

const memberOf = (c: Pick<ChangeDoc, 'v' | 'day' | 'key' | 'state' | 'item'>): Member => ({ v: c.v, day: c.day, key: c.key, state: c.state, item: c.item });
