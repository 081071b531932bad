import type { Db } from 'mongodb';
import type { DossierView } from '../domain/dossier';
import { writeProjection } from '../store/read-model';
import { ReferenceData } from '../store/reference-data';
import { createAgencyActivities } from './agency';
import { attemptBoundDb } from './attempt';
import { createComplianceActivities } from './compliance';
import { createComplianceCountsActivities } from './compliance-counts';
import { createCourierJobActivities } from './courier-jobs';
import type { Fetch } from './http';
import { createOutboxActivities } from './outbox';
import { createPaymentActivities } from './payments';
import { createReconcileActivities } from './reconcile';
import { createReferenceDataActivities } from './reference-data';
import type { WorkflowAccess } from './workflow-access';

export type { WorkflowAccess } from './workflow-access';

export interface ActivityDeps {
  db: Db;
  paymentGatewayUrl: string;
  paymentGatewayApiKey?: string;
  notifyWebhookUrl?: string;
  fetch?: Fetch;
  /**
   * Reads dossier workflows' views for the reconciliation pass (without it that activity fails,
   * non-retryable), and starts the compliance counts' aggregator again on a verification request.
   */
  workflows?: WorkflowAccess;
}

/** Every activity the workflows run (dossier, compliance snapshot and counts, reconciliation), built from the clients they need. */
export function createActivities(activityDeps: ActivityDeps) {
  // Every read-model call an attempt makes ends with the attempt (activities/attempt.ts).
  const deps = { ...activityDeps, db: attemptBoundDb(activityDeps.db) };
  const fetchImpl = deps.fetch ?? fetch;
  const refs = new ReferenceData(deps.db);
  return {
    ...createReferenceDataActivities(refs),
    ...createAgencyActivities({ db: deps.db, refs, fetch: fetchImpl }),
    ...createCourierJobActivities({ db: deps.db, refs }),
    ...createPaymentActivities({ db: deps.db, fetch: fetchImpl, gatewayUrl: deps.paymentGatewayUrl, gatewayApiKey: deps.paymentGatewayApiKey }),
    ...createOutboxActivities({ db: deps.db, fetch: fetchImpl, webhookUrl: deps.notifyWebhookUrl }),
    ...createComplianceActivities({ db: deps.db, refs }),
    ...createComplianceCountsActivities({ db: deps.db, workflows: deps.workflows }),
    ...createReconcileActivities({ db: deps.db, workflows: deps.workflows }),
    async projectDossier(input: { view: DossierView }): Promise<{ written: boolean }> {
      return writeProjection(deps.db, input.view);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
