/**
 * Reconciliation of the read model with the dossier workflows, the source of
 * truth. A projection is two or more writes without a transaction (deadlines,
 * then the dossier), so a crash in between leaves them at different versions
 * until the activity's retry lands; this pass is the backstop that finds such
 * dossiers and rewrites them from the workflow's current view.
 *
 * Candidates, read in batches of list hours (see reconcileBatch):
 * - every dossier the read model shows as non-terminal (it may still move), and
 *   terminal ones for a few hours after their last change;
 * - any dossier whose deadline docs disagree with its dossier doc: another
 *   version, or a deadline the dossier's view lists but the read model lacks;
 * - deadline docs with no dossier doc at all (a crash during the first projection).
 * A candidate differs from its view at another version, or at the same version
 * with another `viewHash` (issue #13); only the repair replaces such a document.
 * Rewrites go through `writeProjection` (versioned) and are read back against
 * the workflow's view as it is then, so the pass is idempotent and safe next to
 * live projections.
 */
import type { Db } from 'mongodb';
import { TERMINAL_STATUSES, type DossierStatus, type DossierView, type Stage } from '../domain/dossier';
import { COLLECTIONS } from './db';
import { hoursOfDay, listedDayRecords } from './dossier-list';
import { addCounts, EMPTY_COUNTS, type ReconcileCounts } from '../workflows/contracts';
import type { DeadlineDoc, DossierDoc } from './documents';
import { viewHashOf, writeProjection } from './read-model';
import { requestCountsVerification } from './compliance-counts';

export type { ReconcileCounts } from '../workflows/contracts';

/** Where the truth is read: the dossier workflow's view (null when there is no such workflow). */
export interface ViewSource {
  view(code: string): Promise<DossierView | null>;
}

export interface BatchResult extends ReconcileCounts {
  /** Where the next batch starts, to pass as `after`; null when the pass is complete. */
  next: string | null;
}

/** What the scan reads of a dossier doc. */
export interface DossierHead {
  _id: string;
  version: number;
  status: DossierStatus;
  /** When the stored view last changed (workflow time). */
  updatedAt?: Date;
  /** A fingerprint of the stored view; absent in documents written before (compared by version only). */
  viewHash?: string;
  /** The view's deadline stages (StoredDossierDoc); in documents written before, the view itself. */
  deadlineStages?: Stage[];
  view?: { deadlines: { stage: Stage }[] };
}

/** What the scan reads of a deadline doc. */
export type DeadlineHead = Pick<DeadlineDoc, 'dossierCode' | 'stage' | 'version'>;

/** The stages of the deadlines a dossier document's view lists, in either stored form. */
const stagesOf = (dossier: DossierHead): Stage[] => dossier.deadlineStages ?? dossier.view?.deadlines.map((d) => d.stage) ?? [];

/** The read model of one dossier disagrees with itself (a projection stopped half-way). */
export function inconsistent(dossier: DossierHead, deadlines: DeadlineHead[]): boolean {
  if (deadlines.some((d) => d.version !== dossier.version)) return true;
  const present = new Set(deadlines.map((d) => d.stage));
  return stagesOf(dossier).some((stage) => !present.has(stage));
}

/** The read model of one dossier is not exactly `view`. */
export function differsFromView(view: DossierView, dossier: Pick<DossierHead, 'version' | 'viewHash'> | undefined, deadlines: DeadlineHead[]): boolean {
  if (!dossier || dossier.version !== view.version) return true;
  // The same version with other content (issue #13: a live run and the replay that answers queries disagreeing).
  if (dossier.viewHash !== undefined && dossier.viewHash !== viewHashOf(view)) return true;
  const byStage = new Map(deadlines.map((d) => [d.stage, d.version]));
  return view.deadlines.some((d) => byStage.get(d.stage) !== view.version);
}

export interface BatchOptions {
  /** A cursor a batch returned (`hour:<listHour>|<code>`, or a dossier code from a code-range pass); null to start. */
  after: string | null;
  batchSize: number;
  /** Called after each candidate, e.g. to heartbeat the activity. */
  onProgress?: () => void;
  /** Told of each candidate that failed (it is counted and skipped). */
  onError?: (code: string, err: unknown) => void;
}

/** The cursor of the hour walk: `hour:<listHour>|<code>` of the last dossier done. */
const HOUR_CURSOR = 'hour:';
const HEAD_PROJECTION = { _id: 1, version: 1, viewHash: 1, status: 1, updatedAt: 1, deadlineStages: 1, 'view.deadlines': 1 } as const;
const DEADLINE_PROJECTION = { _id: 0, dossierCode: 1, stage: 1, version: 1 } as const;
/** Deadline reads by dossier in flight at once (one indexed equality each). */
const DEADLINE_READS = 8;
/** Days whose recorded hours are read at once, at most; hours read at once, at most (two indexed equalities each). */
const MAX_DAYS_AT_ONCE = 32;
const MAX_HOURS_AT_ONCE = 32;

/** A dossier of an hour bucket, or the code of deadline docs there whose dossier doc is missing (head null). */
interface Entry {
  code: string;
  head: DossierHead | null;
  deadlines: DeadlineHead[];
}

/**
 * One page of the scan. A pass walks the list hours that hold dossiers
 * (`dossier_hours`, written once an hour before the first dossier of that
 * hour; a day recorded before those exist has all 24 hours read), oldest
 * first, `batchSize` dossiers a batch, in hour then code order. An hour is two
 * indexed equalities on `listHour`: its dossier docs, and its deadline docs
 * (which carry their dossier's hour), so deadlines without a dossier doc (a
 * crash during the first projection) are found in their hour, like the
 * dossiers. Every batch reads a bounded number of documents whatever the size
 * of the collections: there is no last batch that streams them (FerretDB 1.24
 * has no skip or range pushdown, so a stream cannot be resumed part-way), and
 * paging by an `_id` range with a sort decoded the whole collection per batch.
 *
 * Not seen by the walk: a dossier doc without a list hour whose deadline
 * docs do not carry one either (from before both; the worker's startup
 * backfill gives every dossier its keys, store/dossier-list.ts), and deadline
 * docs from before they carried `listHour` whose dossier doc is missing.
 *
 * `after` is null to start, or a cursor this function returned. A dossier code
 * (the cursor of the code-range scan, from a pass started before the hour
 * walk) is still accepted: that pass finishes by code ranges.
 */
export async function reconcileBatch(db: Db, source: ViewSource, opts: BatchOptions): Promise<BatchResult> {
  if (!Number.isSafeInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`invalid batch size: ${opts.batchSize}`);
  if (opts.after !== null && !opts.after.startsWith(HOUR_CURSOR)) return codeRangeBatch(db, source, { ...opts, after: opts.after });
  // The cursor: the list hour and code of the last entry done (hours in order, codes in order within an hour).
  const [doneHour, doneCode] = opts.after === null ? [null, null] : opts.after.slice(HOUR_CURSOR.length).split('|', 2);
  const done = (hour: string, code: string) => doneHour != null && (hour < doneHour || (hour === doneHour && code <= (doneCode ?? '')));
  const days = (await listedDayRecords(db)).filter((d) => doneHour == null || d.day >= doneHour.slice(0, 10));
  const entries: Entry[] = [];
  let next: string | null = null;
  // The hours to read, a few days' records at a time as the walk needs them.
  const hours: string[] = [];
  let daysRead = 0;
  // Two days first (a busy day holds several batches), twice as many each time the walk needs more.
  let dayRound = 2;
  const moreHours = async (): Promise<boolean> => {
    if (daysRead >= days.length) return false;
    const round = days.slice(daysRead, (daysRead += dayRound));
    dayRound = Math.min(MAX_DAYS_AT_ONCE, dayRound * 2);
    hours.push(...(await Promise.all(round.map((d) => hoursOfDay(db, d)))).flat().filter((h) => doneHour == null || h >= doneHour));
    return true;
  };
  let hoursRead = 0;
  let found = 0;
  walk: for (;;) {
    while (hours.length === 0) if (!(await moreHours())) break walk;
    // As many hours at once as the batch's rest seems to need by the buckets read so far (two to start:
    // a busy hour may hold a whole batch), within bounds. Each read is a round trip: sparse hours want many at once.
    const need = hoursRead === 0 ? 2 : Math.ceil((opts.batchSize - entries.length) / Math.max(1, found / hoursRead));
    const width = Math.min(MAX_HOURS_AT_ONCE, Math.max(1, need));
    while (hours.length < width && (await moreHours()));
    const round = hours.splice(0, width);
    const buckets = await Promise.all(round.map((hour) => hourBucket(db, hour)));
    hoursRead += round.length;
    for (const [k, bucket] of buckets.entries()) {
      found += bucket.length;
      for (const e of bucket) {
        if (done(round[k]!, e.code)) continue;
        entries.push(e);
        if (entries.length === opts.batchSize) {
          next = `${HOUR_CURSOR}${round[k]!}|${e.code}`;
          break walk;
        }
      }
    }
  }
  // Deadlines in an hour without their dossier there: a dossier doc without a list hour (checked as a dossier), else an orphan.
  const unplaced = entries.filter((e) => !e.head);
  for (let i = 0; i < unplaced.length; i += DEADLINE_READS) {
    await Promise.all(
      unplaced.slice(i, i + DEADLINE_READS).map(async (e) => (e.head = (await db.collection<DossierDoc>(COLLECTIONS.dossiers).findOne({ _id: e.code }, { projection: HEAD_PROJECTION })) as unknown as DossierHead | null)),
    );
  }
  // Deadline docs written before they carried `listHour` are not in their hour: read those dossiers' by code.
  const partial = entries.filter((e) => e.head && stagesOf(e.head).some((stage) => !e.deadlines.some((x) => x.stage === stage)));
  for (let i = 0; i < partial.length; i += DEADLINE_READS) {
    await Promise.all(partial.slice(i, i + DEADLINE_READS).map(async (e) => (e.deadlines = await deadlinesOfDossier(db, e.code))));
  }
  const heads = entries.flatMap((e) => (e.head ? [e.head] : []));
  const orphans = entries.filter((e) => !e.head).map((e) => e.code);
  const deadlinesOf = new Map(entries.map((e) => [e.code, e.deadlines]));
  const counts = await examine(db, source, heads, deadlinesOf, orphans, opts);
  return { ...counts, next };
}

/** An hour's dossiers and the codes of its deadline docs without a dossier doc, by code. */
async function hourBucket(db: Db, hour: string): Promise<Entry[]> {
  const [dossiers, deadlines] = await Promise.all([
    db.collection<DossierDoc>(COLLECTIONS.dossiers).find({ listHour: hour }, { projection: HEAD_PROJECTION }).toArray() as unknown as Promise<DossierHead[]>,
    db.collection<DeadlineDoc>(COLLECTIONS.deadlines).find({ listHour: hour }, { projection: DEADLINE_PROJECTION }).toArray() as unknown as Promise<DeadlineHead[]>,
  ]);
  const byCode = new Map<string, Entry>(dossiers.map((head) => [head._id, { code: head._id, head, deadlines: [] }]));
  for (const d of deadlines) {
    let e = byCode.get(d.dossierCode);
    if (!e) byCode.set(d.dossierCode, (e = { code: d.dossierCode, head: null, deadlines: [] }));
    e.deadlines.push(d);
  }
  return [...byCode.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

async function deadlinesOfDossier(db: Db, code: string): Promise<DeadlineHead[]> {
  return (await db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find({ dossierCode: code }, { projection: DEADLINE_PROJECTION })
    .toArray()) as unknown as DeadlineHead[];
}

/**
 * The code-range scan, kept for a pass started before the hour walk (its
 * cursor is a dossier code): the next `batchSize` dossier docs by code, the
 * deadline docs of the same code range (so orphans in the gaps are seen too).
 */
async function codeRangeBatch(db: Db, source: ViewSource, opts: BatchOptions & { after: string }): Promise<BatchResult> {
  const dossiers = (await db
    .collection<DossierDoc>(COLLECTIONS.dossiers)
    .find({ _id: { $gt: opts.after } }, { projection: HEAD_PROJECTION })
    .sort({ _id: 1 })
    .limit(opts.batchSize)
    .toArray()) as unknown as DossierHead[];
  // A short page is the last one: its range runs to the end, so trailing orphans are included.
  const last = dossiers.length === opts.batchSize ? dossiers.at(-1)!._id : null;
  const codeRange: Record<string, string> = { $gt: opts.after };
  if (last !== null) codeRange.$lte = last;
  const deadlineDocs = (await db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find({ dossierCode: codeRange }, { projection: DEADLINE_PROJECTION })
    .toArray()) as unknown as DeadlineHead[];
  const deadlinesOf = new Map<string, DeadlineHead[]>();
  for (const d of deadlineDocs) {
    const list = deadlinesOf.get(d.dossierCode);
    if (list) list.push(d);
    else deadlinesOf.set(d.dossierCode, [d]);
  }
  const codes = new Set(dossiers.map((d) => d._id));
  const orphans = [...deadlinesOf.keys()].filter((code) => !codes.has(code)).sort();
  return { ...(await examine(db, source, dossiers, deadlinesOf, orphans, opts)), next: last };
}

/** Checks a batch's dossiers and orphans against the workflows' views and repairs what differs. */
async function examine(
  db: Db,
  source: ViewSource,
  dossiers: DossierHead[],
  deadlinesOf: Map<string, DeadlineHead[]>,
  orphans: string[],
  opts: BatchOptions,
): Promise<ReconcileCounts> {
  const heads = new Map(dossiers.map((d) => [d._id, d]));
  const candidates: string[] = [];
  // A dossier that ended recently is checked a few passes more: a worker kill near its end can leave
  // a same-version view that differs (issue #13), and after that nothing would look at it again.
  const recentSince = Date.now() - RECHECK_ENDED_MS;
  for (const d of dossiers) {
    const recentlyEnded = d.updatedAt !== undefined && d.updatedAt.getTime() >= recentSince;
    if (!TERMINAL_STATUSES.has(d.status) || recentlyEnded || inconsistent(d, deadlinesOf.get(d._id) ?? [])) candidates.push(d._id);
  }
  candidates.push(...orphans);

  const counts: ReconcileCounts = { ...EMPTY_COUNTS, checked: dossiers.length, candidates: candidates.length, orphans: orphans.length };
  for (const code of candidates) {
    try {
      const view = await source.view(code);
      if (view === null) counts.notFound++;
      else if (differsFromView(view, heads.get(code), deadlinesOf.get(code) ?? [])) {
        if (await repair(db, source, code, view)) {
          counts.repaired++;
          // Same version, other content: the deadline docs were rewritten at that version, but their change
          // records (keyed by version) were not, so the counts are checked against the records.
          const head = heads.get(code);
          if (head?.version === view.version && head.viewHash !== undefined && head.viewHash !== viewHashOf(view)) {
            await requestCountsVerification(db, `reconcile: ${code} rewritten at v${view.version}`);
          }
        } else {
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
  return counts;
}

/** How long after its last change a terminal dossier is still a candidate (passes run hourly). */
const RECHECK_ENDED_MS = 3 * 3600_000;

/** Writes that did not stick while the workflow's view stood still: then the pass reports a failure. */
const REPAIR_ATTEMPTS = 5;
/** Writes in all while the view keeps moving on (live events): a bound, not an expected count. */
const REPAIR_WRITES = 50;

/**
 * Writes the view, then checks the read model against the workflow's view as
 * it is now, and writes again while they differ. Version guards alone do not
 * make two concurrent writes of a document safe on FerretDB 1.24 (its
 * conditional replace is not atomic, and two racing first inserts lose one),
 * so a write of ours that lands after a live projection's newer one is caught
 * here and overwritten with the newer view. A view that moved on since the
 * last write is chased, not counted against the attempts: the dossier is
 * busy, not broken, and its newest view is written before the pass leaves it.
 */
async function repair(db: Db, source: ViewSource, code: string, view: DossierView): Promise<boolean> {
  let current = view;
  let stuck = 0;
  for (let write = 1; write <= REPAIR_WRITES; write++) {
    // A same-version document is replaced too: the workflow's view is the truth, and one that
    // differs at the same version would never be replaced by the live path's strict guard.
    await writeProjection(db, current, { sameVersion: 'replace' });
    const written = await readModelOf(db, code);
    const fresh = (await source.view(code)) ?? current;
    if (!differsFromView(fresh, written.dossier ?? undefined, written.deadlines)) return true;
    if (fresh.version === current.version && ++stuck >= REPAIR_ATTEMPTS) return false;
    current = fresh;
  }
  return false;
}

async function readModelOf(db: Db, code: string): Promise<{ dossier: Pick<DossierHead, 'version' | 'viewHash'> | null; deadlines: DeadlineHead[] }> {
  const dossier = await db.collection<DossierDoc>(COLLECTIONS.dossiers).findOne({ _id: code }, { projection: { _id: 0, version: 1, viewHash: 1 } });
  const deadlines = (await db
    .collection<DeadlineDoc>(COLLECTIONS.deadlines)
    .find({ dossierCode: code }, { projection: { _id: 0, dossierCode: 1, stage: 1, version: 1 } })
    .toArray()) as unknown as DeadlineHead[];
  return { dossier: dossier as Pick<DossierHead, 'version' | 'viewHash'> | null, deadlines };
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
