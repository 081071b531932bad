/**
 * Every document the system stores in the read model's database, by
 * collection (names in store/db.ts, store/snapshots.ts and
 * store/compliance-counts/tables.ts). Types only: the code that writes and
 * reads them lives beside its collection. The states, stages and owners are
 * the domain's.
 */
import type { Counts, SummaryRow } from '../domain/compliance';
import type { CourierJobRef, DeadlineState, DossierStatus, DossierView, Owner, Stage } from '../domain/dossier';
import type { Address, LocalDate } from '../domain/types';
import type { ListKeys } from './dossier-list';

// ------------------------------------------------------------ read model

/**
 * A dossier in the read model as readers get it (`findDossier`, `listDossiers`):
 * the workflow's view plus the fields queries filter on. Stored as a
 * `StoredDossierDoc`.
 */
export interface DossierDoc extends ListKeys {
  _id: string;
  version: number;
  view: DossierView;
  status: DossierStatus;
  agencyId: string;
  procedureCode: string;
  district: string;
  phoneLast4: string;
  courierIds: string[];
  submittedAt: Date;
  updatedAt: Date;
  nextDueAt: Date | null;
}

/**
 * A dossier document as stored: the view as JSON text (`viewJson`), because
 * FerretDB decodes and encodes a nested document field by field, about three
 * times the cost of the same bytes as one string, on every write and read
 * (issue #13); `deadlineStages` is what reconciliation checks of it. Documents
 * written before hold `view` as a document instead, and are read alike.
 */
export interface StoredDossierDoc extends Omit<DossierDoc, 'view'> {
  viewJson?: string;
  /** A fingerprint of `viewJson` (store/read-model.ts viewHashOf); absent in documents written before. */
  viewHash?: string;
  deadlineStages?: Stage[];
  view?: DossierView;
}

/** One committed deadline, the unit the compliance figures count. */
export interface DeadlineDoc {
  _id: string;
  dossierCode: string;
  version: number;
  stage: Stage;
  owner: Owner;
  agencyId: string;
  procedureCode: string;
  district: string;
  startedAt: Date;
  dueAt: Date;
  /** Local day the due ends (a 00:00 due belongs to the day before). */
  dueDay: string;
  dueMonth: string;
  revisedDueAt: Date | null;
  completedAt: Date | null;
  state: DeadlineState;
  atRisk: boolean;
  supplementWorkingDays: number;
  multipleSupplementRequests: boolean;
  /**
   * Decision 766's due (processing only). Null for the post's stages, and for a
   * supplemented dossier whose view predates the field (not derivable without
   * the calendar); absent on records written before the field existed.
   */
  indexDueAt?: Date | null;
  dossierStatus: DossierStatus;
  /** The dossier's `listHour`, so reconciliation finds a deadline without its dossier by hour; absent on records written before. */
  listHour?: string;
}

// --------------------------------------------------- the workflow's effects

/** `courier_jobs`: one job per pickup or delivery attempt. */
export interface CourierJobDoc {
  _id: string;
  dossierCode: string;
  agencyId: string;
  purpose: CourierJobRef['purpose'];
  attempt: number;
  courierId: string | null;
  status: 'open' | 'done' | 'failed' | 'cancelled';
  address: Address | null;
  createdAt: Date;
  updatedAt: Date;
  cancelReason?: string;
  /** The courier's id while the job is open (store/courier-jobs.ts finds a courier's open jobs by it). */
  openCourierId?: string;
}

/** `outbox`: one notification, read by the SMS and e-mail gateways. */
export interface OutboxMessage {
  _id: string;
  dossierCode: string;
  audience: 'citizen' | 'agency' | 'manager' | 'courier';
  template: string;
  data: Record<string, unknown>;
  to: { phone?: string; email?: string | null; agencyId?: string };
  createdAt: Date;
  webhookDeliveredAt: Date | null;
}

/** `ledger`: one money movement. */
export interface LedgerEntry {
  /** The movement's idempotency key: a movement is recorded once, whatever retries happen. */
  _id: string;
  dossierCode: string;
  kind: 'capture' | 'cash' | 'refund';
  method: 'gateway' | 'cash';
  amountVnd: number;
  by: string;
  gatewayId?: string;
  at: Date;
}

// ------------------------------------------------- compliance snapshots

/** One window of deadlines (by original due day), grouped two ways. */
export interface SnapshotSection {
  /** Inclusive local dates of the original due. */
  from: LocalDate;
  to: LocalDate;
  byAgency: SummaryRow[];
  byStage: SummaryRow[];
  totals: Counts;
}

export interface ComplianceSnapshot {
  /** The local day the snapshot is of: one document per day, a rerun replaces it. */
  _id: LocalDate;
  schemaVersion: number;
  day: LocalDate;
  month: string;
  /** Per the working calendar when the snapshot was taken. */
  workingDay: boolean;
  /** The Schedule's nominal time for this day; null for a run started by hand. */
  scheduledAt: Date | null;
  /** When the figures were read. */
  takenAt: Date;
  /** Deadlines originally due that day, as they stood at `takenAt`. */
  due: SnapshotSection;
  /** Deadlines originally due from the 1st of the month through that day, as they stood at `takenAt`. */
  monthToDate: SnapshotSection;
}

// ---------------------------------------------------- compliance counts
// The stored field names are short (`t`, `m`, `v`, `src`, `dict`) because
// FerretDB decodes a stored document at about 50 ns a byte; they are kept as
// deployed (docs/DECISIONS.md) and named here, field by field.
// store/compliance-counts/codec.ts writes and reads the text inside them.

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
