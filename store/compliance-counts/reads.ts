/** The summary and the deadline lists, read from the compliance counts: the same answers as the scan (store/compliance.ts). */
import type { Db } from 'mongodb';
import { addCalendarDays, localDate } from '../../domain/calendar';
import { addToTally, emptyTally, summaryOf, type GroupBy, type Summary, type SummaryQuery, type Tally } from '../tally';
import { BY_DAY_WIDTH, byDayKeyOfFields, decodeListLine, decodeTable, encodeKey, KEY_WIDTH, keyOfFields, STATES, type CountsKey, type ListedDeadline, type StateCounts } from './codec';
import { countsPathFor, daysOf, monthsBetween } from './planner';
import { COUNTS_COLLECTIONS, countsCollection, countsTables, type DayCountsDoc, type ListDoc, type MonthCountsDoc } from './tables';

type Dims = Partial<Omit<CountsKey, 'outcome'> & { day: string; month: string }>;
const GROUP_DIM: Record<GroupBy, keyof Dims> = { agency: 'agencyId', procedure: 'procedureCode', stage: 'stage', owner: 'owner', district: 'district', day: 'day', month: 'month' };

/** The summary from the counts: the same contract and figures as the scan (store/compliance.ts). */
export async function countsSummary(db: Db, q: SummaryQuery): Promise<Summary> {
  const g: GroupBy = q.groupBy ?? 'agency';
  const groups = new Map<string, Tally>();
  const totals = emptyTally();
  const take = (dims: Dims, n: StateCounts, outcome: CountsKey['outcome']) => {
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
  const takeKey = (month: string, day: string | undefined, { outcome, ...dims }: CountsKey, n: StateCounts) => take({ ...dims, day, month }, n, outcome);
  // One `_id` lookup per day: FerretDB decodes only the document it returns.
  const dayDocs = (month: string, days: string[]) => Promise.all(days.map((day) => db.collection<DayCountsDoc>(countsCollection('days', month)).findOne({ _id: day })));
  const monthDoc = (month: string, table: 'month' | 'byday') => db.collection<MonthCountsDoc>(countsCollection(table, month)).findOne({ _id: table });

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
      for (const { fields, n } of decodeTable(whole, KEY_WIDTH)) takeKey(month, undefined, keyOfFields(fields), n);
    } else if (path === 'byday') {
      for (const { fields, n } of decodeTable(whole, BY_DAY_WIDTH)) {
        const { day, stage, owner, outcome } = byDayKeyOfFields(fields);
        if (day >= q.from && day <= q.to) take({ day, stage, owner, month }, n, outcome);
      }
    } else if (path === 'days') {
      for (const doc of days) for (const { fields, n } of decodeTable(doc, KEY_WIDTH)) takeKey(month, doc!._id, keyOfFields(fields), n);
    } else {
      // The month less the days outside the window: each day's rows are part of the month's.
      const rows = new Map<string, { key: CountsKey; n: StateCounts }>();
      for (const { fields, n } of decodeTable(whole, KEY_WIDTH)) {
        const key = keyOfFields(fields);
        rows.set(encodeKey(key), { key, n });
      }
      for (const doc of days) {
        for (const { fields, n } of decodeTable(doc, KEY_WIDTH)) {
          const row = rows.get(encodeKey(keyOfFields(fields)));
          if (row) for (let i = 0; i < n.length; i++) row.n[i]! -= n[i]!;
        }
      }
      // A row whose deadlines all fall on excluded days is not a group of the window.
      for (const { key, n } of rows.values()) if (n.some((x) => x > 0)) takeKey(month, undefined, key, n);
    }
  }
  return summaryOf(groups, totals);
}

const byDue = (a: ListedDeadline, b: ListedDeadline) => a.dueAt.getTime() - b.dueAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

/**
 * The overdue deadlines from the counts, oldest due first: the same answer as
 * the scan (store/compliance.ts). Due months are read oldest first, each by
 * `_id`, until the limit is met: every due of a month is before every due of
 * the next (a deadline's month is that of its due day).
 */
export async function countsOverdue(db: Db, q: { stage?: string; agencyId?: string; limit: number }): Promise<ListedDeadline[]> {
  const months = (await countsTables(db))
    .filter((t) => t.kind === 'month')
    .map((t) => t.month)
    .sort();
  const out: ListedDeadline[] = [];
  for (const month of months) {
    if (out.length >= q.limit) break;
    const doc = await db.collection<ListDoc>(COUNTS_COLLECTIONS.overdue).findOne({ _id: month });
    for (const line of doc?.items ? doc.items.split('\n') : []) {
      const d = decodeListLine(line, 'overdue');
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
    const docs = await Promise.all(week.map((day) => db.collection<ListDoc>(countsCollection('open', day.slice(0, 7))).findOne({ _id: day })));
    for (const doc of docs) {
      for (const line of doc?.items ? doc.items.split('\n') : []) {
        const d = decodeListLine(line, 'open');
        if (d.dueAt.getTime() > q.now && d.dueAt.getTime() <= until) out.push(d);
      }
    }
  }
  return out.sort(byDue).slice(0, limit);
}
