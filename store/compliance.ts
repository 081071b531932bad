/**
 * Compliance queries over the `deadlines` read model.
 *
 * FerretDB 1.24 has no $cond/$facet and only $sum/$count accumulators, so the
 * summary fetches the projected fields it needs and aggregates in code
 * (`summarize`, pure, unit-tested).
 */
import type { Db, Filter } from 'mongodb';
import type { Stage } from '../domain/dossier';
import { COLLECTIONS } from './db';
import type { DeadlineDoc } from './read-model';

export const GROUP_BYS = ['agency', 'procedure', 'stage', 'owner', 'district', 'day', 'month'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

/** The deadline field each grouping reads. */
const GROUP_FIELD = {
  agency: 'agencyId',
  procedure: 'procedureCode',
  stage: 'stage',
  owner: 'owner',
  district: 'district',
  day: 'dueDay',
  month: 'dueMonth',
} as const satisfies Record<GroupBy, keyof DeadlineDoc>;

/** The fields a summary needs from a deadline record. */
export type SummaryRecord = Pick<DeadlineDoc, 'state' | 'agencyId' | 'procedureCode' | 'stage' | 'owner' | 'district' | 'dueDay' | 'dueMonth'>;

export interface Counts {
  total: number;
  metOnTime: number;
  metLate: number;
  open: number;
  overdue: number;
  /** metOnTime / (metOnTime + metLate + overdue); null when that is 0. */
  onTimeRate: number | null;
}

export interface SummaryRow extends Counts {
  key: string;
}

export interface Summary {
  rows: SummaryRow[];
  totals: Counts;
}

type Tally = Omit<Counts, 'onTimeRate'>;

const emptyTally = (): Tally => ({ total: 0, metOnTime: 0, metLate: 0, open: 0, overdue: 0 });

function add(t: Tally, state: DeadlineDoc['state']): void {
  t.total++;
  if (state === 'met_on_time') t.metOnTime++;
  else if (state === 'met_late') t.metLate++;
  else if (state === 'open') t.open++;
  else if (state === 'overdue') t.overdue++;
}

function finish(t: Tally): Counts {
  const judged = t.metOnTime + t.metLate + t.overdue;
  return { ...t, onTimeRate: judged === 0 ? null : t.metOnTime / judged };
}

/** Counts records by state, grouped by `groupBy`; rows sorted by key (code-unit order). */
export function summarize(records: Iterable<SummaryRecord>, groupBy: GroupBy = 'agency'): Summary {
  const field = GROUP_FIELD[groupBy];
  const groups = new Map<string, Tally>();
  const totals = emptyTally();
  for (const r of records) {
    const key = String(r[field] ?? '');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = emptyTally()));
    add(g, r.state);
    add(totals, r.state);
  }
  const rows = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, t]) => ({ key, ...finish(t) }));
  return { rows, totals: finish(totals) };
}

export interface SummaryQuery {
  /** Inclusive local dates, YYYY-MM-DD. */
  from: string;
  to: string;
  groupBy?: GroupBy;
  stage?: Stage;
  agencyId?: string;
  procedureCode?: string;
}

/**
 * The compliance summary: deadline records whose original `dueAt` falls in
 * [from, to] as local days. `dueDay` is the local day the due ends (a 00:00
 * due belongs to the day before), so the window is a plain string range on it.
 */
export async function complianceSummary(db: Db, q: SummaryQuery): Promise<Summary> {
  const filter: Filter<DeadlineDoc> = { dueDay: { $gte: q.from, $lte: q.to } };
  if (q.stage) filter.stage = q.stage;
  if (q.agencyId) filter.agencyId = q.agencyId;
  if (q.procedureCode) filter.procedureCode = q.procedureCode;
  const records = await db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find(filter, {
      projection: { _id: 0, state: 1, agencyId: 1, procedureCode: 1, stage: 1, owner: 1, district: 1, dueDay: 1, dueMonth: 1 },
    })
    .toArray();
  return summarize(records as unknown as SummaryRecord[], q.groupBy ?? 'agency');
}

export interface OverdueQuery {
  stage?: Stage;
  agencyId?: string;
  limit: number;
}

/** Deadlines in state `overdue`, oldest `dueAt` first. */
export async function overdueDeadlines(db: Db, q: OverdueQuery): Promise<DeadlineDoc[]> {
  const filter: Filter<DeadlineDoc> = { state: 'overdue' };
  if (q.stage) filter.stage = q.stage;
  if (q.agencyId) filter.agencyId = q.agencyId;
  return db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find(filter)
    .sort({ dueAt: 1, _id: 1 })
    .limit(q.limit)
    .toArray();
}

export interface AtRiskQuery {
  withinHours: number;
  /** Epoch milliseconds. */
  now: number;
}

/** Open deadlines with `dueAt` in (now, now + withinHours], soonest first. */
export async function atRiskDeadlines(db: Db, q: AtRiskQuery): Promise<DeadlineDoc[]> {
  return db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find({ state: 'open', dueAt: { $gt: new Date(q.now), $lte: new Date(q.now + q.withinHours * 3600_000) } })
    .sort({ dueAt: 1, _id: 1 })
    .toArray();
}
