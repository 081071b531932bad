import { heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from 'mongodb';
import { withinAttempt } from './attempt';
import { reconcileBatch, type BatchResult, type ViewSource } from '../store/reconcile';
import type { WorkflowAccess } from './workflow-access';

/** The dossier workflow's current view, through a query (null when there is no such workflow). */
export function temporalViewSource(workflows: WorkflowAccess): ViewSource {
  return { view: (code) => withinAttempt(workflows.temporal, () => workflows.dossierView(code)) };
}

/** Reconciliation of the read model with the workflows (store/reconcile.ts). */
export function createReconcileActivities(deps: { db: Db; workflows?: WorkflowAccess }) {
  return {
    async reconcileReadModelBatch(input: { after: string | null; batchSize: number }): Promise<BatchResult> {
      if (!deps.workflows) {
        throw ApplicationFailure.nonRetryable('this worker was built without a Temporal client: it cannot read dossier views', 'ReconcileUnavailable');
      }
      return reconcileBatch(deps.db, temporalViewSource(deps.workflows), {
        after: input.after,
        batchSize: input.batchSize,
        onProgress: () => heartbeat(),
        onError: (code, err) => log.warn('reconcile: dossier skipped', { code, error: String(err) }),
      });
    },
  };
}
