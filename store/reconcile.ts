/**
 * Reconciliation of the read model with the dossier workflows, the source of
 * truth. A projection is two or more writes without a transaction (deadlines,
 * then the dossier), so a crash in between leaves them at different versions
 * until the activity's retry lands; this pass is the backstop that finds such
 * dossiers and rewrites them from the workflow's current view.
 *
 * Candidates, read in pages of dossier codes:
 * - every dossier the read model shows as non-terminal (it may still move);
 * - any dossier whose deadline docs disagree with its dossier doc: another
 *   version, or a deadline the dossier's view lists but the read model lacks;
 * - deadline docs with no dossier doc at all (a crash during the first projection).
 * Rewrites go through `writeProjection` (versioned) and are read back against
 * the workflow's view as it is then, so the pass is idempotent and safe next to
 * live projections.
 */
import type { Db, Filter } from 'mongodb';
import { TERMINAL_STATUSES, type DossierStatus, type DossierView, type Stage } from '../domain/dossier';
import { COLLECTIONS } from './db';
import { addCounts, EMPTY_COUNTS, type ReconcileCounts } from '../workflows/contracts';
import type { DeadlineDoc, DossierDoc } from './documents';
import { writeProjection } from './read-model';

export type { ReconcileCounts } from '../workflows/contracts';

/** Where the truth is read: the dossier workflow's view (null when there is no such workflow). */
export interface ViewSource {
  view(code: string): Promise<DossierView | null>;
}

export interface BatchResult extends ReconcileCounts {
  /** The last dossier code of this batch, to pass as `after`; null when the scan is complete. */
  next: string | null;
}

/** What the scan reads of a dossier doc. */
export interface DossierHead {
  _id: string;
  version: number;
  status: DossierStatus;
  view: { deadlines: { stage: Stage }[] };
}

/** What the scan reads of a deadline doc. */
export type DeadlineHead = Pick<DeadlineDoc, 'dossierCode' | 'stage' | 'version'>;

/** The read model of one dossier disagrees with itself (a projection stopped half-way). */
export function inconsistent(dossier: DossierHead, deadlines: DeadlineHead[]): boolean {
  if (deadlines.some((d) => d.version !== dossier.version)) return true;
  const present = new Set(deadlines.map((d) => d.stage));
  return dossier.view.deadlines.some((d) => !present.has(d.stage));
}

/** The read model of one dossier is not exactly `view`. */
export function differsFromView(view: DossierView, dossier: Pick<DossierHead, 'version'> | undefined, deadlines: DeadlineHead[]): boolean {
  if (!dossier || dossier.version !== view.version) return true;
  const byStage = new Map(deadlines.map((d) => [d.stage, d.version]));
  return view.deadlines.some((d) => byStage.get(d.stage) !== view.version);
}

export interface BatchOptions {
  /** Dossier codes after this one (exclusive); null to start. */
  after: string | null;
  batchSize: number;
  /** Called after each candidate, e.g. to heartbeat the activity. */
  onProgress?: () => void;
  /** Told of each candidate that failed (it is counted and skipped). */
  onError?: (code: string, err: unknown) => void;
}

/**
 * One page of the scan: the next `batchSize` dossier docs by code, the deadline
 * docs of the same code range (so orphans in the gaps are seen too), then the
 * workflow's view for each candidate.
 */
export async function reconcileBatch(db: Db, source: ViewSource, opts: BatchOptions): Promise<BatchResult> {
  if (!Number.isSafeInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`invalid batch size: ${opts.batchSize}`);
  const idRange: Filter<DossierDoc> = opts.after === null ? {} : { _id: { $gt: opts.after } };
  const dossiers = (await db
    .collection<DossierDoc>(COLLECTIONS.dossiers)
    .find(idRange, { projection: { _id: 1, version: 1, status: 1, 'view.deadlines': 1 } })
    .sort({ _id: 1 })
    .limit(opts.batchSize)
    .toArray()) as unknown as DossierHead[];
  // A short page is the last one: its range runs to the end, so trailing orphans are included.
  const last = dossiers.length === opts.batchSize ? dossiers.at(-1)!._id : null;
  const codeRange: Record<string, string> = {};
  if (opts.after !== null) codeRange.$gt = opts.after;
  if (last !== null) codeRange.$lte = last;
  const deadlineDocs = (await db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find(Object.keys(codeRange).length ? { dossierCode: codeRange } : {}, { projection: { _id: 0, dossierCode: 1, stage: 1, version: 1 } })
    .toArray()) as unknown as DeadlineHead[];

  const deadlinesOf = new Map<string, DeadlineHead[]>();
  for (const d of deadlineDocs) {
    const list = deadlinesOf.get(d.dossierCode);
    if (list) list.push(d);
    else deadlinesOf.set(d.dossierCode, [d]);
  }
  const heads = new Map(dossiers.map((d) => [d._id, d]));
  const candidates: string[] = [];
  for (const d of dossiers) {
    if (!TERMINAL_STATUSES.has(d.status) || inconsistent(d, deadlinesOf.get(d._id) ?? [])) candidates.push(d._id);
  }
  const orphans = [...deadlinesOf.keys()].filter((code) => !heads.has(code)).sort();
  candidates.push(...orphans);

  const counts: ReconcileCounts = { ...EMPTY_COUNTS, checked: dossiers.length, candidates: candidates.length, orphans: orphans.length };
  for (const code of candidates) {
    try {
      const view = await source.view(code);
      if (view === null) counts.notFound++;
      else if (differsFromView(view, heads.get(code), deadlinesOf.get(code) ?? [])) {
        if (await repair(db, source, code, view)) counts.repaired++;
        else {
          counts.failed++;
          opts.onError?.(code, new Error('the read model kept moving away from the view'));
        }
      }
    } catch (err) {
      // One dossier whose workflow cannot answer must not stop the pass for the others.
      counts.failed++;
      opts.onError?.(code, err);
    }
    opts.onProgress?.();
  }
  return { ...counts, next: last };
}

/** Attempts at writing a dossier until its read model holds the workflow's current view. */
const REPAIR_ATTEMPTS = 5;

/**
 * Writes the view, then checks the read model against the workflow's view as
 * it is now, and writes again while they differ. Version guards alone do not
 * make two concurrent writes of a document safe on FerretDB 1.24 (its
 * conditional replace is not atomic, and two racing first inserts lose one),
 * so a write of ours that lands after a live projection's newer one is caught
 * here and overwritten with the newer view.
 */
async function repair(db: Db, source: ViewSource, code: string, view: DossierView): Promise<boolean> {
  let current = view;
  for (let attempt = 1; attempt <= REPAIR_ATTEMPTS; attempt++) {
    await writeProjection(db, current);
    const written = await readModelOf(db, code);
    const fresh = (await source.view(code)) ?? current;
    if (!differsFromView(fresh, written.dossier ?? undefined, written.deadlines)) return true;
    current = fresh;
  }
  return false;
}

async function readModelOf(db: Db, code: string): Promise<{ dossier: Pick<DossierHead, 'version'> | null; deadlines: DeadlineHead[] }> {
  const dossier = await db.collection<DossierDoc>(COLLECTIONS.dossiers).findOne({ _id: code }, { projection: { _id: 0, version: 1 } });
  const deadlines = (await db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find({ dossierCode: code }, { projection: { _id: 0, dossierCode: 1, stage: 1, version: 1 } })
    .toArray()) as unknown as DeadlineHead[];
  return { dossier: dossier as Pick<DossierHead, 'version'> | null, deadlines };
}

/** A whole pass, batch after batch (the workflow does the same through activities). */
export async function reconcileAll(db: Db, source: ViewSource, batchSize = 200): Promise<ReconcileCounts> {
  let totals = EMPTY_COUNTS;
  let after: string | null = null;
  for (;;) {
    const { next, ...counts }: BatchResult = await reconcileBatch(db, source, { after, batchSize });
    totals = addCounts(totals, counts);
    if (next === null) return totals;
    after = next;
  }
}
