/** The dossier as its readers see it (API, read model, search attributes). */
import { parseInstant } from '../calendar';
import type { DeadlineRecord, DeadlineView, DossierState, DossierView } from '../dossier';
import { rulesV2 } from './deadlines';
import { feesView } from './money';

export function toView(state: DossierState): DossierView {
  const deadlines: DeadlineView[] = state.deadlines.map((d) => ({
    stage: d.stage,
    owner: d.owner,
    startedAt: d.startedAt,
    dueAt: d.dueAt,
    revisedDueAt: d.revisedDueAt,
    completedAt: d.completedAt,
    state: d.state,
    atRisk: d.atRisk,
    workingDays: d.workingDays,
    supplementWorkingDays: d.supplementWorkingDays,
    indexDueAt: d.indexDueAt,
  }));
  return {
    code: state.code,
    procedureCode: state.procedureCode,
    procedureName: state.procedure.name,
    agencyId: state.agencyId,
    agencyName: state.agency.name,
    status: state.status,
    outcome: state.outcome,
    resultRef: state.resultRef,
    rejectionReason: state.rejectionReason,
    receiptNo: state.receiptNo,
    services: state.services,
    pickupAddress: state.pickupAddress,
    delivery: state.delivery,
    payment: { method: state.payment.method },
    applicant: state.applicant,
    submittedAt: state.submittedAt,
    deadlines,
    nextDueAt: nextDueAt(state),
    fees: feesView(state),
    attempts: state.attempts,
    pickupFailures: state.pickupFailures.map(({ occurredAt, reason }) => ({ occurredAt, reason })),
    timeline: state.timeline,
    apology: state.apology,
    supplementRequests: { count: state.supplementRequests.length, items: state.supplementRequests },
    agencyViolations: state.agencyViolations ?? [],
    multipleSupplementRequests: state.supplementRequests.length > 1,
    courierIds: state.courierIds,
    job: state.job,
    invitations: state.invitations,
    version: state.version,
    updatedAt: state.updatedAt,
  };
}

/** The earliest due still running (a paused clock has none); an apology's date replaces its due. */
function nextDueAt(state: DossierState): string | null {
  // Rules 2: the earliest due still owed, overdue included (`Overdue` tells lateness apart).
  const owed = rulesV2(state) ? (d: DeadlineRecord) => !d.completedAt : (d: DeadlineRecord) => d.state === 'open';
  const open = state.deadlines.filter((d) => owed(d) && !d.pausedAt).map((d) => d.revisedDueAt ?? d.dueAt);
  return open.length ? open.reduce((a, b) => (parseInstant(a) <= parseInstant(b) ? a : b)) : null;
}
