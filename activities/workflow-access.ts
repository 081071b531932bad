import type { Client } from '@temporalio/client';
import type { DossierView } from '../domain/dossier';

/**
 * What activities ask of the workflows. The worker builds it from the
 * workflows' client (clients/dossiers.ts); activities see only this
 * interface, since that client imports the workflows, which import the
 * activities' types.
 */
export interface WorkflowAccess {
  /** The client the calls go through: an attempt ends its calls with it (activities/attempt.ts). */
  readonly temporal: Client;
  /** The dossier workflow's current view; null when there is no such workflow. */
  dossierView(code: string): Promise<DossierView | null>;
  /** Starts the compliance counts' aggregator unless it is running; absent where the worker keeps none. */
  ensureCountsAggregator?: () => Promise<unknown>;
}
