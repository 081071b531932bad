import { heartbeat, log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from 'mongodb';
import { withinAttempt } from './attempt';
import { reconcileBatch, type BatchResult, type ViewSource } from '../store/reconcile';
import { dossierViewQuery, dossierWorkflowId } from '../workflows/messages';

/** The dossier workflow's current view, through a query (null when there is no such workflow). */
export function temporalViewSource(client: Client): ViewSource {
  return {
    async view(code) {
      try {
        return await withinAttempt(client, () => client.workflow.getHandle(dossierWorkflowId(code)).query(dossierViewQuery));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      }
    },
  };
}

/** Reconciliation of the read model with the workflows (store/reconcile.ts). */
export function createReconcileActivities(deps: { db: Db; temporal?: Client }) {
  return {
    async reconcileReadModelBatch(input: { after: string | null; batchSize: number }): Promise<BatchResult> {
      if (!deps.temporal) {
        throw ApplicationFailure.nonRetryable('this worker was built without a Temporal client: it cannot read dossier views', 'ReconcileUnavailable');
      }
      return reconcileBatch(deps.db, temporalViewSource(deps.temporal), {
        after: input.after,
        batchSize: input.batchSize,
        onProgress: () => heartbeat(),
        onError: (code, err) => log.warn('reconcile: dossier skipped', { code, error: String(err) }),
      });
    },
  };
}
