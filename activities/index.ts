import type { Db } from 'mongodb';
import type { DossierView } from '../domain/dossier';
import { writeProjection } from '../store/read-model';
import { ReferenceData } from '../store/reference-data';
import { createAgencyActivities } from './agency';
import { createCourierJobActivities } from './courier-jobs';
import type { Fetch } from './http';
import { createOutboxActivities } from './outbox';
import { createPaymentActivities } from './payments';
import { createReferenceDataActivities } from './reference-data';

export interface ActivityDeps {
  db: Db;
  paymentGatewayUrl: string;
  paymentGatewayApiKey?: string;
  notifyWebhookUrl?: string;
  fetch?: Fetch;
}

/** Every activity the dossier workflow runs, built from the clients it needs. */
export function createActivities(deps: ActivityDeps) {
  const fetchImpl = deps.fetch ?? fetch;
  const refs = new ReferenceData(deps.db);
  return {
    ...createReferenceDataActivities(refs),
    ...createAgencyActivities({ db: deps.db, refs, fetch: fetchImpl }),
    ...createCourierJobActivities({ db: deps.db, refs }),
    ...createPaymentActivities({ db: deps.db, fetch: fetchImpl, gatewayUrl: deps.paymentGatewayUrl, gatewayApiKey: deps.paymentGatewayApiKey }),
    ...createOutboxActivities({ db: deps.db, fetch: fetchImpl, webhookUrl: deps.notifyWebhookUrl }),
    async projectDossier(input: { view: DossierView }): Promise<{ written: boolean }> {
      return writeProjection(deps.db, input.view);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
