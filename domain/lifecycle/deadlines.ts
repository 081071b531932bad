/** Deadline records: opening, recomputing, closing; and the rules switch they depend on. */
import { computeDueAt, endOfLocalDay, localDate, morningOf, parseInstant, type WorkingCalendar } from '../calendar';
import type { AgencyViolation, DeadlineRecord, DossierSettings, DossierState, Owner, Stage } from '../dossier';
import type { Instant } from '../types';
import type { Context } from './types';

/** The pickup is due at the end of the next working day (DESIGN §3). */
export const PICKUP_WORKING_DAYS = 1;
/** An electronic handoff is due the same working day (the next one after 15:00). */
export const ELECTRONIC_HANDOFF_WORKING_DAYS = 0;
/** Counter collection: the post's return leg, agency to counter, is a same-district one. */
export const COUNTER_NOTICE_WORKING_DAYS = 1;
/** Working days after receipt within which Decree 61 lets an agency ask for a supplement. */
export const SUPPLEMENT_REQUEST_WINDOW_DAYS = 3;
/** Working days between invitations to collect a held result, and from the last one to the return. */
export const INVITATION_INTERVAL_DAYS = 2;

/** Whether the dossier runs under the lifecycle rules of 2 (docs/DECISIONS.md, "Lifecycle rules 2"). */
export function rulesV2(state: DossierState): boolean {
  return state.settings.rules === 2;
}

export function withViolation(state: DossierState, violation: AgencyViolation): DossierState {
  return { ...state, agencyViolations: [...(state.agencyViolations ?? []), violation] };
}

export function deadline(state: DossierState, stage: Stage): DeadlineRecord | undefined {
  return state.deadlines.find((d) => d.stage === stage);
}

/** A deadline's due on the calendar as it is now (under `pause`, processing adds its supplement days). */
export function dueFor(d: DeadlineRecord, settings: DossierSettings, cal: WorkingCalendar): Instant {
  const extra = d.stage === 'processing' && settings.supplementRule === 'pause' ? d.supplementWorkingDays : 0;
  return computeDueAt(cal, d.startedAt, d.workingDays + extra);
}

/**
 * Decision 766's due: from the lodging, plus the working days spent waiting
 * for supplements. Under `restart` `startedAt` has moved past the lodging, so
 * the lodging is read from the timeline (`agency.received` opens processing).
 */
export function indexDueFor(state: DossierState, d: DeadlineRecord, cal: WorkingCalendar): Instant | null {
  if (d.stage !== 'processing') return null;
  const lodgedAt = state.timeline.find((t) => t.type === 'agency.received')?.occurredAt ?? d.startedAt;
  return computeDueAt(cal, lodgedAt, d.workingDays + d.supplementWorkingDays);
}

export function openDeadline(state: DossierState, stage: Stage, owner: Owner, startedAt: Instant, workingDays: number, ctx: Context): DossierState {
  const dueAt = computeDueAt(ctx.calendar, startedAt, workingDays);
  const record: DeadlineRecord = {
    stage,
    owner,
    startedAt,
    dueAt,
    revisedDueAt: null,
    completedAt: null,
    state: 'open',
    workingDays,
    supplementWorkingDays: 0,
    indexDueAt: stage === 'processing' ? dueAt : null,
    pausedAt: null,
    atRisk: false,
    atRiskNotified: false,
    nextReminderAt: null,
    revisedDueNotified: false,
  };
  return { ...state, deadlines: [...state.deadlines.filter((d) => d.stage !== stage), record] };
}

export function updateDeadline(state: DossierState, stage: Stage, f: (d: DeadlineRecord) => DeadlineRecord): DossierState {
  return { ...state, deadlines: state.deadlines.map((d) => (d.stage === stage ? f(d) : d)) };
}

/** Met on time when completed on or before the committed due (never the revised one). */
export function closeDeadline(state: DossierState, stage: Stage, completedAt: Instant): DossierState {
  return updateDeadline(state, stage, (d) =>
    d.completedAt
      ? d
      : {
          ...d,
          completedAt,
          state: parseInstant(completedAt) <= parseInstant(d.dueAt) ? 'met_on_time' : 'met_late',
          pausedAt: null,
          atRisk: false,
          nextReminderAt: null,
        },
  );
}

/**
 * A withdrawn or cancelled dossier ends its open deadlines where it stopped:
 * Decision 766 counts "stopped" as the end of processing.
 */
export function closeOpenDeadlines(state: DossierState, at: Instant): DossierState {
  return state.deadlines.filter((d) => !d.completedAt).reduce((s, d) => closeDeadline(s, d.stage, at), state);
}

/**
 * A held result's invitations after the first (sent at `sentAt`): the next a
 * few working days later in the morning, the return to the agency at the end
 * of as many working days after that.
 */
export function invitationSchedule(cal: WorkingCalendar, sentAt: Instant): { nextAt: Instant; returnAt: Instant } {
  const nextAt = morningOf(cal.addWorkingDays(localDate(sentAt), INVITATION_INTERVAL_DAYS));
  const returnAt = endOfLocalDay(cal.addWorkingDays(localDate(nextAt), INVITATION_INTERVAL_DAYS));
  return { nextAt, returnAt };
}
