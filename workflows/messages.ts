/**
 * Messages of the dossier workflow, defined once and shared by the workflow
 * and its clients (the API, tests, operators' scripts).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { DossierSettings, DossierView } from '../domain/dossier';
import type { EventCommand } from '../domain/events';
import type { DossierContext, Submission } from '../domain/types';

export const TASK_QUEUE_DEFAULT = 'dossiers';

export function dossierWorkflowId(code: string): string {
  return `dossier-${code}`;
}

export interface DossierWorkflowInput {
  submission: Submission;
  settings: DossierSettings;
  /**
   * The reference data the submitter read when it checked the submission (the API does); without it
   * the workflow reads them itself, by an activity. Either way they are in the history for replays.
   */
  context?: DossierContext;
}

/** Applies a reported event; refused synchronously (validator) when it does not fit. */
export const applyEventUpdate = defineUpdate<DossierView, [EventCommand]>('applyEvent');
/** Completes once the dossier is registered (fees quoted, first deadlines set). */
export const registeredUpdate = defineUpdate<DossierView>('registered');
export const dossierViewQuery = defineQuery<DossierView | null>('dossierView');
/** The working calendar changed: re-check open deadlines now. */
export const calendarChangedSignal = defineSignal('calendarChanged');

/** Failure type of a refused event; `details[0]` is the `Refusal`. */
export const REFUSAL_FAILURE_TYPE = 'DossierEventRefused';

export const searchAttributes = {
  status: defineSearchAttributeKey('DossierStatus', SearchAttributeType.KEYWORD),
  agencyId: defineSearchAttributeKey('AgencyId', SearchAttributeType.KEYWORD),
  procedureCode: defineSearchAttributeKey('ProcedureCode', SearchAttributeType.KEYWORD),
  nextDueAt: defineSearchAttributeKey('NextDueAt', SearchAttributeType.DATETIME),
  overdue: defineSearchAttributeKey('Overdue', SearchAttributeType.BOOL),
};
