/**
 * What a reconciliation pass counts (store/reconcile.ts). Pure and free of
 * imports, so the reconciliation workflow adds its batches' counts with the
 * same code as the store.
 */
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
