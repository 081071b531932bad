import type { FeeItem } from './fees';
import type {
  Address,
  Agency,
  Applicant,
  DeliveryChoice,
  Instant,
  LocalDate,
  PaymentChoice,
  Procedure,
  Role,
  RouteClass,
} from './types';

export const STATUSES = [
  'submitted',
  'awaiting_pickup',
  'in_transit_to_agency',
  'processing',
  'awaiting_supplement',
  'result_ready',
  'out_for_delivery',
  'held_at_post_office',
  'delivered',
  'collected',
  'returned_to_agency',
  'closed',
  'withdrawn',
  'cancelled',
] as const;
export type DossierStatus = (typeof STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<DossierStatus> = new Set([
  'delivered',
  'collected',
  'returned_to_agency',
  'closed',
  'withdrawn',
  'cancelled',
]);

/** Statuses from which the citizen may still withdraw (before the result). */
export const WITHDRAWABLE_STATUSES: ReadonlySet<DossierStatus> = new Set([
  'submitted',
  'awaiting_pickup',
  'in_transit_to_agency',
  'processing',
  'awaiting_supplement',
]);

export const STAGES = ['pickup', 'handoff', 'processing', 'delivery'] as const;
export type Stage = (typeof STAGES)[number];
export type Owner = 'post' | 'agency';
export const DEADLINE_STATES = ['open', 'overdue', 'met_on_time', 'met_late'] as const;
export type DeadlineState = (typeof DEADLINE_STATES)[number];

export interface DeadlineRecord {
  stage: Stage;
  owner: Owner;
  startedAt: Instant;
  /** The committed due; compliance is judged against it, never against a revision. */
  dueAt: Instant;
  /** The agency's new appointment after an apology. */
  revisedDueAt: Instant | null;
  completedAt: Instant | null;
  state: DeadlineState;
  /** Working days allowed (J+n). */
  workingDays: number;
  /** Working days the clock stood still for supplements (`pause` rule, and for the Decision 766 index). */
  supplementWorkingDays: number;
  /**
   * Decision 766's due (processing only, else null): from the lodging plus
   * `supplementWorkingDays`, what the `pause` rule gives whatever the setting.
   */
  indexDueAt: Instant | null;
  /** While awaiting a supplement the clock is stopped. */
  pausedAt: Instant | null;
  /** One working day before a processing due, unresolved. */
  atRisk: boolean;
  atRiskNotified: boolean;
  /** Next daily reminder to the owner while overdue (processing only). */
  nextReminderAt: Instant | null;
  /** The revised due of an apology has passed and was notified. */
  revisedDueNotified: boolean;
}

export interface Actor {
  role: Role | 'system';
  /** JWT `sub`, or the workflow for system events. */
  id: string;
  agencyId?: string;
  courierId?: string;
}

export interface TimelineEntry {
  type: string;
  occurredAt: Instant;
  recordedAt: Instant;
  by: { role: Actor['role']; id: string };
  eventId?: string;
  note?: string;
}

export interface Recipient {
  fullName: string;
  idNumber: string;
  relationship: 'self' | 'proxy';
  authorizationRef?: string;
}

export interface DeliveryAttempt {
  attempt: number;
  occurredAt: Instant;
  outcome: 'delivered' | 'failed';
  reason?: 'not_home' | 'wrong_address' | 'refused' | 'other';
  note?: string;
  recipient?: Recipient;
  courierId: string;
}

export interface SupplementRequest {
  reason: string;
  items: string[];
  requestedAt: Instant;
  providedAt: Instant | null;
  /** Requested within 3 working days of receipt, as Decree 61 requires. */
  withinWindow: boolean;
}

export interface Apology {
  newDueDate: LocalDate;
  revisedDueAt: Instant;
  reason: string;
  apologizedAt: Instant;
  /** Sent at least one working day before the due, as required. */
  timely: boolean;
  /** The clock restarted past the new appointment: the apology no longer holds, a new one may be made (rules 2). */
  voidedAt?: Instant;
}

export interface Payment {
  /** Ledger key: the same movement is never recorded twice. */
  key: string;
  kind: 'capture' | 'cash' | 'refund';
  amountVnd: number;
  at: Instant;
  by: string;
  reference?: string;
}

export interface CourierJobRef {
  jobId: string;
  purpose: 'pickup' | 'delivery' | 'redelivery';
  attempt: number;
  courierId: string | null;
}

export interface DossierSettings {
  supplementRule: 'restart' | 'pause';
  classOneProvinces: string[];
  /**
   * The lifecycle rules a dossier runs under for its whole life (docs/DECISIONS.md):
   * 1 (absent) for dossiers started before `lifecycle-rules-v2`, 2 since: a breach is never
   * erased, a late supplement request buys no time, system events bound `occurredAt`,
   * invitations run from when a failure is reported, districts compare with their unit type.
   */
  rules?: 1 | 2;
}

/** A rule the agency broke, shown in the dossier view (rules 2). */
export interface AgencyViolation {
  /** `supplement_request_late`: asked for more documents after the 3 working days Decree 61 allows. */
  rule: 'supplement_request_late';
  at: Instant;
  stage: Stage;
  detail: string;
}

export interface DossierState {
  /** Bumped on every transition; the read model never goes backwards. */
  version: number;
  code: string;
  procedureCode: string;
  procedure: Pick<Procedure, 'name' | 'processingDays'>;
  agencyId: string;
  agency: Pick<Agency, 'name' | 'province' | 'district'>;
  applicant: Applicant;
  services: { collect: boolean; deliver: boolean };
  pickupAddress: Address | null;
  delivery: DeliveryChoice | null;
  payment: PaymentChoice;
  submittedAt: Instant;
  routes: { pickup: RouteClass | null; delivery: RouteClass | null };
  settings: DossierSettings;

  status: DossierStatus;
  outcome: 'approved' | 'rejected' | null;
  resultRef: string | null;
  rejectionReason: string | null;
  receiptNo: string | null;
  deadlines: DeadlineRecord[];
  fees: { items: FeeItem[]; payments: Payment[]; redeliveryCharge: FeeItem | null };
  attempts: DeliveryAttempt[];
  pickupFailures: { occurredAt: Instant; reason: string; courierId: string }[];
  timeline: TimelineEntry[];
  apology: Apology | null;
  supplementRequests: SupplementRequest[];
  /** The courier job in progress, if any. */
  job: CourierJobRef | null;
  /** Couriers who were assigned a job for this dossier (they may read it). */
  courierIds: string[];
  /** Re-dispatch of a failed pickup on the next working day. */
  pickupRedispatchAt: Instant | null;
  /** Invitations to collect a held result; the result goes back to the agency at `returnAt`. */
  invitations: { sentAt: Instant[]; nextAt: Instant | null; returnAt: Instant | null };
  handedOff: boolean;
  /** Rules the agency broke (rules 2; absent before). */
  agencyViolations?: AgencyViolation[];
  /** occurredAt of the latest event (under rules 2 also the workflow's courier-job and counter-notice events): an event may not be dated before it. */
  lastEventAt: Instant;
  updatedAt: Instant;
}

/** Fees as the dossier view shows them. */
export interface FeesView {
  items: { name: string; amountVnd: number; payee: 'post' | 'agency' }[];
  totalVnd: number;
  paidVnd: number;
  dueVnd: number;
}

type DeadlineViewFields = Pick<
  DeadlineRecord,
  'stage' | 'owner' | 'startedAt' | 'dueAt' | 'revisedDueAt' | 'completedAt' | 'state' | 'atRisk' | 'workingDays' | 'supplementWorkingDays'
> & {
  /** Decision 766's due (processing only); absent from views written before it existed. */
  indexDueAt?: Instant | null;
};
/** A deadline as readers see it: the record without the timers' bookkeeping (flattened, one object type). */
export type DeadlineView = { [K in keyof DeadlineViewFields]: DeadlineViewFields[K] };

/** The dossier view of DESIGN.md §4 (unmasked; the API masks by role). */
export interface DossierView {
  code: string;
  procedureCode: string;
  procedureName: string;
  agencyId: string;
  agencyName: string;
  status: DossierStatus;
  outcome: 'approved' | 'rejected' | null;
  resultRef: string | null;
  rejectionReason: string | null;
  receiptNo: string | null;
  services: { collect: boolean; deliver: boolean };
  pickupAddress: Address | null;
  delivery: DeliveryChoice | null;
  payment: { method: PaymentChoice['method'] };
  applicant: Applicant;
  submittedAt: Instant;
  deadlines: DeadlineView[];
  nextDueAt: Instant | null;
  fees: FeesView;
  attempts: DeliveryAttempt[];
  pickupFailures: { occurredAt: Instant; reason: string }[];
  timeline: TimelineEntry[];
  apology: Apology | null;
  supplementRequests: { count: number; items: SupplementRequest[] };
  /** Rules the agency broke (e.g. a supplement request outside the 3-working-day window); absent from views written before it existed. */
  agencyViolations?: AgencyViolation[];
  /** Decision 766 counts a dossier with more than one supplement request as late. */
  multipleSupplementRequests: boolean;
  courierIds: string[];
  job: CourierJobRef | null;
  invitations: { sentAt: Instant[]; nextAt: Instant | null; returnAt: Instant | null };
  version: number;
  updatedAt: Instant;
}
