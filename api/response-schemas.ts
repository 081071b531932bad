/**
 * Success responses (zod), for the OpenAPI document and the conformance check
 * of the integration tests. Each schema is tied to the type the code returns
 * by `Same<>` below, so a field added to a view without its schema (or the
 * other way round) fails the typecheck.
 */
import { z } from 'zod';
import { DEADLINE_STATES, STAGES, STATUSES, type DeadlineView, type DossierView } from '../domain/dossier';
import type { Agency, CalendarYear, Courier, Procedure, Tariff } from '../domain/types';
import type { Counts, SummaryRow } from '../store/tally';
import { GROUP_BYS } from '../store/tally';
import type { DeadlineItem } from './compliance-export';
import { ROLES } from './auth';

/** Identical types (optional fields included): the schema's output and the code's type describe the same values. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function same<A, B>(ok: Same<A, B>): void {
  void ok;
}

/** Named schemas: they become `#/components/schemas/<id>` in the document. */
export const responseRegistry = z.registry<{ id: string; description?: string }>();
const named = <T extends z.ZodType>(schema: T, id: string, description?: string): T => {
  responseRegistry.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
};

const instant = z.string().describe('ISO 8601 instant with offset, e.g. 2026-01-05T09:15:00+07:00');
const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe('a local date (Asia/Ho_Chi_Minh), YYYY-MM-DD');
const nonNegative = z.number().int().min(0);

export const addressResponse = named(z.object({ line: z.string(), ward: z.string(), district: z.string(), province: z.string() }), 'Address');

// Masked for most roles (e.g. `*********234`), so the request patterns do not apply here.
const applicant = z.object({ fullName: z.string(), idNumber: z.string(), phone: z.string(), email: z.string().optional() });
const recipient = z.object({ fullName: z.string(), idNumber: z.string(), relationship: z.enum(['self', 'proxy']), authorizationRef: z.string().optional() });

export const deadlineResponse = named(
  z.object({
    stage: z.enum(STAGES),
    owner: z.enum(['post', 'agency']),
    startedAt: instant,
    dueAt: instant.describe('the committed due; compliance is judged against it'),
    revisedDueAt: instant.nullable().describe("the agency's new appointment after an apology"),
    completedAt: instant.nullable(),
    state: z.enum(DEADLINE_STATES),
    atRisk: z.boolean(),
    workingDays: nonNegative,
    supplementWorkingDays: nonNegative,
    indexDueAt: instant.nullable().optional().describe("Decision 766's due (processing only)"),
  }),
  'Deadline',
  'One deadline record (DESIGN §3)',
);
same<z.infer<typeof deadlineResponse>, DeadlineView>(true);

const courierJobRef = z.object({
  jobId: z.string(),
  purpose: z.enum(['pickup', 'delivery', 'redelivery']),
  attempt: z.number().int(),
  courierId: z.string().nullable(),
});

export const dossierViewResponse = named(
  z.object({
    code: z.string(),
    procedureCode: z.string(),
    procedureName: z.string(),
    agencyId: z.string(),
    agencyName: z.string(),
    status: z.enum(STATUSES),
    outcome: z.enum(['approved', 'rejected']).nullable(),
    resultRef: z.string().nullable(),
    rejectionReason: z.string().nullable(),
    receiptNo: z.string().nullable(),
    services: z.object({ collect: z.boolean(), deliver: z.boolean() }),
    pickupAddress: addressResponse.nullable(),
    delivery: z.discriminatedUnion('method', [z.object({ method: z.literal('home'), address: addressResponse }), z.object({ method: z.literal('counter') })]).nullable(),
    payment: z.object({ method: z.enum(['prepaid', 'cash']) }),
    applicant: applicant.describe('masked for roles other than portal, admin, clerk and the assigned courier'),
    submittedAt: instant,
    deadlines: z.array(deadlineResponse),
    nextDueAt: instant
      .nullable()
      .describe('the earliest due not yet met (the revised one after an apology), overdue included; null when nothing is owed or the clock waits for a supplement (dossiers started before lifecycle rules 2: open dues only)'),
    fees: z.object({
      items: z.array(z.object({ name: z.string(), amountVnd: nonNegative, payee: z.enum(['post', 'agency']) })),
      totalVnd: nonNegative,
      paidVnd: nonNegative,
      dueVnd: z.number().int(),
    }),
    attempts: z.array(
      z.object({
        attempt: z.number().int(),
        occurredAt: instant,
        outcome: z.enum(['delivered', 'failed']),
        reason: z.enum(['not_home', 'wrong_address', 'refused', 'other']).optional(),
        note: z.string().optional(),
        recipient: recipient.optional(),
        courierId: z.string(),
      }),
    ),
    pickupFailures: z.array(z.object({ occurredAt: instant, reason: z.string() })),
    timeline: z.array(
      z.object({
        type: z.string(),
        occurredAt: instant,
        recordedAt: instant,
        by: z.object({ role: z.enum([...ROLES, 'system']), id: z.string() }),
        eventId: z.string().optional(),
        note: z.string().optional(),
      }),
    ),
    apology: z
      .object({
        newDueDate: localDate,
        revisedDueAt: instant,
        reason: z.string(),
        apologizedAt: instant,
        timely: z.boolean(),
        voidedAt: instant.optional().describe('the restarted clock passed the appointment: it no longer holds, and a new apology may be made'),
      })
      .nullable(),
    supplementRequests: z.object({
      count: nonNegative,
      items: z.array(z.object({ reason: z.string(), items: z.array(z.string()), requestedAt: instant, providedAt: instant.nullable(), withinWindow: z.boolean() })),
    }),
    agencyViolations: z
      .array(z.object({ rule: z.enum(['supplement_request_late']), at: instant, stage: z.enum(STAGES), detail: z.string() }))
      .optional()
      .describe("rules the agency broke, e.g. a supplement request outside the 3-working-day window; absent from views written before it existed"),
    multipleSupplementRequests: z.boolean(),
    courierIds: z.array(z.string()),
    job: courierJobRef.nullable(),
    invitations: z.object({ sentAt: z.array(instant), nextAt: instant.nullable(), returnAt: instant.nullable() }),
    version: z.number().int(),
    updatedAt: instant,
  }),
  'DossierView',
  'The dossier view (DESIGN §4); personal data masked by role',
);
same<z.infer<typeof dossierViewResponse>, DossierView>(true);

export const dossierPageResponse = named(
  z.object({
    items: z.array(dossierViewResponse),
    nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
  }),
  'DossierPage',
  'A page of dossiers, newest submission first',
);

export const trackingResponse = named(
  z.object({
    code: z.string(),
    status: z.enum(STATUSES),
    statusLabel: z.object({ vi: z.string(), en: z.string() }),
    updatedAt: instant,
    nextDueAt: instant.nullable(),
  }),
  'Tracking',
  'What the public sees of a dossier: no personal data',
);

export const courierJobsResponse = named(
  z.object({
    items: z.array(
      z.object({
        id: z.string(),
        dossierCode: z.string(),
        agencyId: z.string(),
        purpose: z.enum(['pickup', 'delivery', 'redelivery']),
        attempt: z.number().int(),
        address: addressResponse.nullable(),
        createdAt: instant,
      }),
    ),
  }),
  'CourierJobs',
  "The calling courier's open jobs, oldest first",
);

// ---------------------------------------------------------------- compliance

const decision766 = z.object({
  resolved: nonNegative,
  onTime: nonNegative,
  late: nonNegative,
  onTimeRate: z.number().min(0).max(1).nullable(),
  unjudged: nonNegative,
});

export const countsResponse = named(
  z.object({
    total: nonNegative,
    metOnTime: nonNegative,
    metLate: nonNegative,
    open: nonNegative,
    overdue: nonNegative,
    onTimeRate: z.number().min(0).max(1).nullable().describe('metOnTime / (metOnTime + metLate + overdue); null when that is 0'),
    decision766: decision766.nullable().describe("Decision 766's service index over the processing deadlines; null without any"),
  }),
  'ComplianceCounts',
);
same<z.infer<typeof countsResponse>, Counts>(true);

export const summaryRowResponse = named(countsResponse.extend({ key: z.string() }), 'ComplianceRow');
same<z.infer<typeof summaryRowResponse>, SummaryRow>(true);

export const complianceSummaryResponse = named(
  z.object({
    from: localDate,
    to: localDate,
    groupBy: z.enum(GROUP_BYS),
    filters: z.object({ stage: z.enum(STAGES).optional(), agencyId: z.string().optional(), procedureCode: z.string().optional() }),
    rows: z.array(summaryRowResponse),
    totals: countsResponse,
  }),
  'ComplianceSummary',
);

export const deadlineItemResponse = named(
  z.object({
    dossierCode: z.string(),
    stage: z.enum(STAGES),
    owner: z.enum(['post', 'agency']),
    agencyId: z.string(),
    procedureCode: z.string(),
    dueAt: instant,
    revisedDueAt: instant.nullable(),
    startedAt: instant,
    state: z.enum(DEADLINE_STATES),
    links: z.object({ dossier: z.string() }),
  }),
  'DeadlineItem',
);
same<z.infer<typeof deadlineItemResponse>, DeadlineItem>(true);

export const overdueResponse = named(z.object({ limit: z.number().int(), items: z.array(deadlineItemResponse) }), 'OverdueDeadlines');
export const atRiskResponse = named(
  z.object({ withinHours: z.number().int(), from: instant, until: instant, limit: z.number().int(), items: z.array(deadlineItemResponse) }),
  'AtRiskDeadlines',
);

const snapshotSection = z.object({ from: localDate, to: localDate, byAgency: z.array(summaryRowResponse), byStage: z.array(summaryRowResponse), totals: countsResponse });
export const snapshotsResponse = named(
  z.object({
    from: localDate,
    to: localDate,
    items: z.array(
      z.object({
        day: localDate,
        month: z.string(),
        workingDay: z.boolean(),
        scheduledAt: instant.nullable(),
        takenAt: instant,
        schemaVersion: z.number().int(),
        due: snapshotSection,
        monthToDate: snapshotSection,
      }),
    ),
    missing: z.array(localDate).describe('past days without a snapshot (a run that never happened)'),
  }),
  'ComplianceSnapshots',
);

// ---------------------------------------------------------------- reference data

export const procedureResponse = named(
  z.object({ code: z.string(), name: z.string(), processingDays: nonNegative, fees: z.array(z.object({ name: z.string(), amountVnd: nonNegative })) }),
  'Procedure',
);
same<z.infer<typeof procedureResponse>, Procedure>(true);

export const agencyResponse = named(
  z.object({
    id: z.string(),
    name: z.string(),
    province: z.string(),
    district: z.string(),
    handoff: z.discriminatedUnion('mode', [z.object({ mode: z.literal('webhook'), url: z.string() }), z.object({ mode: z.literal('manual') })]),
  }),
  'Agency',
);
same<z.infer<typeof agencyResponse>, Agency>(true);

export const courierResponse = named(
  z.object({ id: z.string(), name: z.string(), province: z.string(), district: z.string(), wards: z.array(z.string()).describe('empty: the whole district') }),
  'Courier',
);
same<z.infer<typeof courierResponse>, Courier>(true);

const routeCharges = z.object({ sameDistrict: nonNegative, sameProvince: nonNegative, interProvince: nonNegative });
export const tariffResponse = named(z.object({ pickup: routeCharges, delivery: routeCharges, redelivery: routeCharges }), 'Tariff', 'Postal charges in VND');
same<z.infer<typeof tariffResponse>, Tariff>(true);

export const calendarResponse = named(
  z.object({ year: z.number().int(), holidays: z.array(localDate), workingDays: z.array(localDate), note: z.string().optional() }),
  'CalendarYear',
);
same<z.infer<typeof calendarResponse>, CalendarYear>(true);

export const calendarWrittenResponse = named(
  calendarResponse.extend({
    warnings: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    calendarChange: z
      .object({ batchJobId: z.string(), runningDossiers: nonNegative })
      .nullable()
      .describe('the batch signal that re-checks the running dossiers; null when it could not be started (they re-check at their next timer)'),
  }),
  'CalendarWritten',
);

export const listOf = (item: z.ZodType, id: string) => named(z.object({ items: z.array(item) }), id);
export const procedureListResponse = listOf(procedureResponse, 'ProcedureList');
export const agencyListResponse = listOf(agencyResponse, 'AgencyList');
export const courierListResponse = listOf(courierResponse, 'CourierList');

// ---------------------------------------------------------------- operations

export const healthResponse = named(z.object({ status: z.literal('ok') }), 'Health');
export const readinessResponse = named(
  z.object({
    status: z.enum(['ready', 'not ready']),
    temporal: z.enum(['ok', 'unreachable']),
    mongodb: z.enum(['ok', 'unreachable']),
    mongodbPool: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('When MongoDB did not answer: the driver\'s view of the server and its pool (server type, connections checked out, pool cleared/ready counts, checkout failures, the last heartbeat)'),
  }),
  'Readiness',
);

/** The bodies the routes build inline, checked with `satisfies` where they are sent. */
export type DossierPageBody = z.infer<typeof dossierPageResponse>;
export type TrackingBody = z.infer<typeof trackingResponse>;
export type CourierJobsBody = z.infer<typeof courierJobsResponse>;
export type ComplianceSummaryBody = z.infer<typeof complianceSummaryResponse>;
export type OverdueBody = z.infer<typeof overdueResponse>;
export type AtRiskBody = z.infer<typeof atRiskResponse>;
export type SnapshotsBody = z.infer<typeof snapshotsResponse>;
export type CalendarWrittenBody = z.infer<typeof calendarWrittenResponse>;
