/**
 * The compliance counts' storage: which collections hold them, and the
 * documents in them. Why this shape, and the measurements behind it:
 * docs/COMPLIANCE-PERFORMANCE.md.
 *
 * The documents themselves are typed, field by field, in store/documents.ts.
 */
import type { Db } from 'mongodb';

export type { ChangeDoc, CountsRequestDoc, CountsState, DayCountsDoc, ListDoc, MembersDoc, MonthCountsDoc, StoredTable } from '../documents';

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
