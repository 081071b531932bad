/**
 * The compliance figures as pure code: how one deadline record counts (legal
 * state, Decision 766 outcome) and how counts add up into a summary. Shared by
 * the scan (store/compliance.ts) and the pre-aggregated counts
 * (store/compliance-counts/), so both give the same figures by construction.
 */
import type { Counts, Summary } from '../domain/compliance';
import type { DeadlineState, Stage } from '../domain/dossier';
import type { DeadlineDoc } from './documents';

export type { Counts, Decision766Counts, Summary, SummaryRow } from '../domain/compliance';
export type { DeadlineState } from '../domain/dossier';

export const GROUP_BYS = ['agency', 'procedure', 'stage', 'owner', 'district', 'day', 'month'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

/** The deadline field each grouping reads. */
export const GROUP_FIELD = {
  agency: 'agencyId',
  procedure: 'procedureCode',
  stage: 'stage',
  owner: 'owner',
  district: 'district',
  day: 'dueDay',
  month: 'dueMonth',
} as const satisfies Record<GroupBy, keyof DeadlineDoc>;

/** The fields a summary needs from a deadline record. */
export type SummaryRecord = Pick<
  DeadlineDoc,
  'state' | 'agencyId' | 'procedureCode' | 'stage' | 'owner' | 'district' | 'dueDay' | 'dueMonth' | 'completedAt' | 'multipleSupplementRequests' | 'indexDueAt'
>;

export type Decision766Outcome = 'on_time' | 'late' | 'unresolved' | 'unjudged' | 'not_applicable';

/** How Decision 766's index judges one deadline record. */
export function decision766Outcome(r: Pick<SummaryRecord, 'stage' | 'completedAt' | 'indexDueAt' | 'multipleSupplementRequests'>): Decision766Outcome {
  if (r.stage !== 'processing') return 'not_applicable';
  if (!r.completedAt) return 'unresolved';
  // More than one supplement request is late whatever the dates.
  if (r.multipleSupplementRequests) return 'late';
  if (!r.indexDueAt) return 'unjudged';
  return r.completedAt.getTime() <= r.indexDueAt.getTime() ? 'on_time' : 'late';
}

/** A group's running figures, added to record by record or count by count (store/compliance-counts/). */
export interface Tally {
  total: number;
  metOnTime: number;
  metLate: number;
  open: number;
  overdue: number;
  processing: number;
  index: { onTime: number; late: number; unjudged: number };
}

export const emptyTally = (): Tally => ({ total: 0, metOnTime: 0, metLate: 0, open: 0, overdue: 0, processing: 0, index: { onTime: 0, late: 0, unjudged: 0 } });

/** Adds `n` deadlines in `state` whose Decision 766 outcome is `outcome`. */
export function addToTally(t: Tally, state: DeadlineState, outcome: Decision766Outcome, n = 1): void {
  t.total += n;
  if (state === 'met_on_time') t.metOnTime += n;
  else if (state === 'met_late') t.metLate += n;
  else if (state === 'open') t.open += n;
  else if (state === 'overdue') t.overdue += n;
  if (outcome !== 'not_applicable') t.processing += n;
  if (outcome === 'on_time') t.index.onTime += n;
  else if (outcome === 'late') t.index.late += n;
  else if (outcome === 'unjudged') t.index.unjudged += n;
}

const rate = (n: number, d: number): number | null => (d === 0 ? null : n / d);

export function finishTally(t: Tally): Counts {
  const { onTime, late, unjudged } = t.index;
  return {
    total: t.total,
    metOnTime: t.metOnTime,
    metLate: t.metLate,
    open: t.open,
    overdue: t.overdue,
    onTimeRate: rate(t.metOnTime, t.metOnTime + t.metLate + t.overdue),
    decision766: t.processing === 0 ? null : { resolved: onTime + late, onTime, late, onTimeRate: rate(onTime, onTime + late), unjudged },
  };
}

/** Rows sorted by key (code-unit order). */
export function summaryOf(groups: Map<string, Tally>, totals: Tally): Summary {
  const rows = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, t]) => ({ key, ...finishTally(t) }));
  return { rows, totals: finishTally(totals) };
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
    const outcome = decision766Outcome(r);
    addToTally(g, r.state, outcome);
    addToTally(totals, r.state, outcome);
  }
  return summaryOf(groups, totals);
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

