/**
 * What the housekeeping workflows, their activities and their clients
 * exchange: inputs and results.
 * Imported by workflows, activities, store and clients alike, so it imports
 * nothing but the domain's types.
 */
import type { Counts } from '../domain/compliance';
import type { LocalDate } from '../domain/types';

// ------------------------------------------------- the daily snapshot

export interface ComplianceSnapshotInput {
  /** The day to record (YYYY-MM-DD); by default the local day of the Schedule's nominal time, else of the start. */
  day?: LocalDate;
}

export interface SnapshotInput {
  day: LocalDate;
  /** The Schedule's nominal time (ISO 8601), or null for a run started by hand. */
  scheduledAt: string | null;
}

export interface SnapshotResult {
  day: LocalDate;
  workingDay: boolean;
  due: Counts;
  monthToDate: Counts;
}

// ---------------------------------------------------- reconciliation

/** What a reconciliation pass counts (store/reconcile.ts); the workflow adds its batches' counts with the same code. */
export interface ReconcileCounts {
  /** Dossier docs read. */
  checked: number;
  /** Codes whose workflow view was read (non-terminal, inconsistent or orphaned). */
  candidates: number;
  /** Codes whose read model differed from the view and were rewritten. */
  repaired: number;
  /** Codes with deadline docs but no dossier doc. */
  orphans: number;
  /** Candidates without a workflow (e.g. past the namespace's retention): left as they are. */
  notFound: number;
  /** Candidates whose view could not be read or written this time; the next pass tries again. */
  failed: number;
}

export const EMPTY_COUNTS: ReconcileCounts = { checked: 0, candidates: 0, repaired: 0, orphans: 0, notFound: 0, failed: 0 };

export function addCounts(a: ReconcileCounts, b: ReconcileCounts): ReconcileCounts {
  return {
    checked: a.checked + b.checked,
    candidates: a.candidates + b.candidates,
    repaired: a.repaired + b.repaired,
    orphans: a.orphans + b.orphans,
    notFound: a.notFound + b.notFound,
    failed: a.failed + b.failed,
  };
}

export interface ReconcileInput {
  batchSize?: number;
  /** Where a continued pass resumes: the cursor its last batch returned (store/reconcile.ts). */
  after?: string | null;
  totals?: ReconcileCounts;
  batches?: number;
  /** Batches per run before continuing as new, to keep each run's history small. */
  batchesPerRun?: number;
}

export interface ReconcileResult extends ReconcileCounts {
  batches: number;
}

// ---------------------------------------------- the compliance counts

export interface ComplianceCountsInput {
  /** Minutes each aggregator activity runs before the workflow continues as new (keeps the history short). */
  runForMinutes?: number;
  /** Pause between passes with nothing pending: the counts' lag, at most. */
  passIntervalMs?: number;
}

export interface CountsRunInput {
  /** How long this run keeps passing before it returns (the workflow then continues as new). */
  runForMs: number;
  /** Pause between two passes that found nothing more to apply: the counts' lag, at most. */
  passIntervalMs: number;
}

export interface CountsRunResult {
  passes: number;
  applied: number;
  verifications: number;
  corrected: number;
}
