/**
 * The compliance counts' storage: which collections hold them, and the
 * documents in them. Why this shape, and the measurements behind it:
 * docs/COMPLIANCE-PERFORMANCE.md.
 *
 * The stored field names are short (`t`, `m`, `v`, `src`, `dict`) because
 * decoding a stored document costs about 50 ns a byte; they are kept as
 * deployed (docs/DECISIONS.md), and named here.
 */
import type { Db } from 'mongodb';
import type { DeadlineState } from '../tally';

export const COUNTS_COLLECTIONS = {
  /** What the projection inserts, one document per deadline version. */
  changes: 'counts_changes',
  /** `{_id: 'state'}`: when the counts were built and last verified. */
  meta: 'counts_meta',
  /** Verification requests (reconciliation, tests): one document each, deleted once served. */
  requests: 'counts_requests',
  /** One document per due month: the overdue deadlines, for the overdue list. */
  overdue: 'counts_overdue',
} as const;

/**
 * The tables of one due month `YYYY_MM`:
 * - `days`: one document per due day, every dimension;
 * - `month`: the month without the day (whole-month windows);
 * - `byday`: day × stage × owner × outcome (grouping by day, stage, owner or month, filtered by stage at most);
 * - `open`: one document per due day, the open deadlines as list items (the at-risk list);
 * - `members`: the aggregator's state, each due day's members as `<day>@<rev>`.
 */
export type TableKind = 'days' | 'month' | 'byday' | 'members' | 'open';
const TABLE_NAME = /^counts_(days|month|byday|members|open)_(\d{4})_(\d{2})$/;

export function countsCollection(kind: TableKind, month: string): string {
  return `counts_${kind}_${month.replace('-', '_')}`;
}

/** A month table's kind and due month (`YYYY-MM`), or null for any other collection. */
export function parseCountsCollection(name: string): { kind: TableKind; month: string } | null {
  const m = TABLE_NAME.exec(name);
  return m ? { kind: m[1] as TableKind, month: `${m[2]}-${m[3]}` } : null;
}

/** Every month table of the database. */
export async function countsTables(db: Db): Promise<{ name: string; kind: TableKind; month: string }[]> {
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
  return names.flatMap((name) => {
    const t = parseCountsCollection(name);
    return t ? [{ name, ...t }] : [];
  });
}

/** What the projection inserts next to each deadline write (`counts_changes`). */
export interface ChangeDoc {
  /** `<deadlineId>@<version>`: a retried or duplicated write is a duplicate key. */
  _id: string;
  /** The deadline's id. */
  id: string;
  /** The deadline's version. */
  v: number;
  /** Its due day, YYYY-MM-DD. */
  day: string;
  /** Its dimensions, a `CountsKey` as `encodeKey` writes it. */
  key: string;
  state: DeadlineState;
  /** What the deadline lists show beyond the key, a `ListFields` as `encodeListFields` writes it. */
  item: string;
}

export interface CountsState {
  _id: 'state';
  /** When the first verification (the backfill) completed: from then on the summary reads the counts. */
  builtAt: Date;
  verifiedAt: Date;
  /** What the last verification corrected (0 when the counts already matched the records). */
  corrected: number;
}

/** A verification request (`counts_requests`). */
export interface CountsRequestDoc {
  _id: string;
  reason: string;
  at: Date;
}

/**
 * Dimension tuples with their four state counts, as two strings (see
 * `encodeTable`). Self-contained per document: no shared dictionary to keep
 * in step.
 */
export interface StoredTable {
  /** The dictionary: every distinct dimension value, escaped, tab-separated; a value's code is its position. */
  dict: string;
  /** The rows, one a line: the dimensions' dictionary codes, then the counts by state, space-separated. */
  t: string;
}

/** A due day's counts, every dimension (`counts_days_*`, `_id` = the day). */
export interface DayCountsDoc extends StoredTable {
  _id: string;
  /** The source: the revision of the day's members these counts were derived from. */
  src: number;
}

/** A month's counts without the day (`counts_month_*`, `_id` 'month') or by day, stage, owner and outcome (`counts_byday_*`, `_id` 'byday'). */
export interface MonthCountsDoc extends StoredTable {
  _id: 'month' | 'byday';
  /** The source: `day:rev` of every members table of the month these counts were derived from (`monthSource`). */
  src: string;
}

/** A due day's members at one revision (`counts_members_*`, `_id` = `<day>@<rev>`): the aggregator's state. */
export interface MembersDoc {
  _id: string;
  day: string;
  rev: number;
  /** The members, one a line, as `encodeMemberLine` writes them, sorted by deadline id. */
  m: string;
}

/** The deadlines of one list (`counts_open_*` per day, `counts_overdue` per month), one a line as `encodeListLine` writes them. */
export interface ListDoc {
  _id: string;
  /** The source: for a day, its members revision; for a month, `day:rev` of its days. */
  src: number | string;
  items: string;
}
