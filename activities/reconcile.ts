import { heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from 'mongodb';
import { withinAttempt } from './attempt';
import { reconcileBatch, type BatchResult, type ViewSource } from '../store/reconcile';
import type { DossierClient } from '../clients/dossiers';

/** The dossier workflow's current view, through a query (null when there is no such workflow). */
export function temporalViewSource(dossiers: DossierClient): ViewSource {
  return { view: (code) => withinAttempt(dossiers.temporal, () => dossiers.view(code)) };
}

/** Reconciliation of the read model with the workflows (store/reconcile.ts). */
export function createReconcileActivities(deps: { db: Db; dossiers?: DossierClient }) {
  return {
    async reconcileReadModelBatch(input: { after: string | null; batchSize: number }): Promise<BatchResult> {
      if (!deps.dossiers) {
        throw ApplicationFailure.nonRetryable('this worker was built without a Temporal client: it cannot read dossier views', 'ReconcileUnavailable');
      }
      return reconcileBatch(deps.db, temporalViewSource(deps.dossiers), {
        after: input.after,
        batchSize: input.batchSize,
        onProgress: () => heartbeat(),
        onError: (code, err) => log.warn('reconcile: dossier skipped', { code, error: String(err) }),
      });
    },
  };
}
