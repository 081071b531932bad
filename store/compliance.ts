/**
 * Compliance queries over the `deadlines` read model.
 *
 * FerretDB 1.24 has no $cond/$facet and only $sum/$count accumulators, so the
 * summary fetches the projected fields it needs and aggregates in code
 * (`summarize`, pure, unit-tested). Each group carries the legal figures
 * (judged on the committed `dueAt`) and Decision 766's index (judged on
 * `indexDueAt`, processing only).
 */
import type { Db, Filter } from 'mongodb';
import type { Stage } from '../domain/dossier';
import { COLLECTIONS } from './db';
import type { DeadlineDoc, DossierDoc } from './read-model';

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
export type SummaryRecord = Pick<
  DeadlineDoc,
  'state' | 'agencyId' | 'procedureCode' | 'stage' | 'owner' | 'district' | 'dueDay' | 'dueMonth' | 'completedAt' | 'multipleSupplementRequests' | 'indexDueAt'
>;

/**
 * Decision 766's service index over the processing deadlines of a group
 * (DESIGN §2): resolved = processing ended (completed, or withdrawn/cancelled:
 * "stopped"); on time = ended on or before the index due (supplement time
 * subtracted) with at most one supplement request.
 */
export interface Decision766Counts {
  resolved: number;
  onTime: number;
  late: number;
  /** onTime / resolved; null when nothing was resolved. */
  onTimeRate: number | null;
  /** Resolved, but the index due is not known (projected before the field existed, with a supplement); not in `resolved`. */
  unjudged: number;
}

export interface Counts {
  total: number;
  metOnTime: number;
  metLate: number;
  open: number;
  overdue: number;
  /** metOnTime / (metOnTime + metLate + overdue); null when that is 0. */
  onTimeRate: number | null;
  /** Null when the group has no processing deadline: the index judges the agency's processing only. */
  decision766: Decision766Counts | null;
}

export interface SummaryRow extends Counts {
  key: string;
}

export interface Summary {
  rows: SummaryRow[];
  totals: Counts;
}

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

interface Tally {
  total: number;
  metOnTime: number;
  metLate: number;
  open: number;
  overdue: number;
  processing: number;
  index: { onTime: number; late: number; unjudged: number };
}

const emptyTally = (): Tally => ({ total: 0, metOnTime: 0, metLate: 0, open: 0, overdue: 0, processing: 0, index: { onTime: 0, late: 0, unjudged: 0 } });

function add(t: Tally, r: SummaryRecord): void {
  t.total++;
  if (r.state === 'met_on_time') t.metOnTime++;
  else if (r.state === 'met_late') t.metLate++;
  else if (r.state === 'open') t.open++;
  else if (r.state === 'overdue') t.overdue++;
  const outcome = decision766Outcome(r);
  if (outcome !== 'not_applicable') t.processing++;
  if (outcome === 'on_time') t.index.onTime++;
  else if (outcome === 'late') t.index.late++;
  else if (outcome === 'unjudged') t.index.unjudged++;
}

const rate = (n: number, d: number): number | null => (d === 0 ? null : n / d);

function finish(t: Tally): Counts {
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

/** Counts records by state, grouped by `groupBy`; rows sorted by key (code-unit order). */
export function summarize(records: Iterable<SummaryRecord>, groupBy: GroupBy = 'agency'): Summary {
  const field = GROUP_FIELD[groupBy];
  const groups = new Map<string, Tally>();
  const totals = emptyTally();
  for (const r of records) {
    const key = String(r[field] ?? '');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = emptyTally()));
    add(g, r);
    add(totals, r);
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
  const records = (await db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find(filter, {
      projection: {
        _id: 0,
        dossierCode: 1,
        state: 1,
        agencyId: 1,
        procedureCode: 1,
        stage: 1,
        owner: 1,
        district: 1,
        dueAt: 1,
        dueDay: 1,
        dueMonth: 1,
        completedAt: 1,
        multipleSupplementRequests: 1,
        indexDueAt: 1,
      },
    })
    .toArray()) as unknown as FetchedRecord[];
  return summarize(await withLegacyIndexDue(db, records), q.groupBy ?? 'agency');
}

type FetchedRecord = SummaryRecord & Pick<DeadlineDoc, 'dossierCode' | 'dueAt'>;

/**
 * Records written before `indexDueAt` existed: a dossier that never had a
 * supplement request has the due itself as its index due. Only resolved
 * records with at most one request need it, so the lookup is rare.
 */
async function withLegacyIndexDue(db: Db, records: FetchedRecord[]): Promise<SummaryRecord[]> {
  const legacy = (r: FetchedRecord) => r.stage === 'processing' && r.indexDueAt === undefined && r.completedAt && !r.multipleSupplementRequests;
  const codes = [...new Set(records.filter(legacy).map((r) => r.dossierCode))];
  if (!codes.length) return records;
  const dossiers = await db
    .collection<DossierDoc>(COLLECTIONS.dossiers)
    .find({ _id: { $in: codes } }, { projection: { _id: 1, 'view.supplementRequests.count': 1 } })
    .toArray();
  const unsupplemented = new Set(dossiers.filter((d) => d.view?.supplementRequests?.count === 0).map((d) => d._id));
  return records.map((r) => (legacy(r) ? { ...r, indexDueAt: unsupplemented.has(r.dossierCode) ? r.dueAt : null } : r));
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
