import { ApplicationFailure } from '@temporalio/common';
import type { Db } from 'mongodb';
import type { DossierView } from '../domain/dossier';
import { COLLECTIONS, isDuplicateKey } from '../store/db';
import type { ReferenceData } from '../store/reference-data';
import { postJson, type Fetch } from './http';

/**
 * The agency leg: registering the dossier with the agency (its webhook, or a
 * handoff manifest its one-stop desk works from) and telling it of a withdrawal.
 */
export function createAgencyActivities(deps: { db: Db; refs: ReferenceData; fetch: Fetch }) {
  const { db, refs } = deps;

  async function record(key: string, doc: Record<string, unknown>): Promise<void> {
    try {
      await db.collection(COLLECTIONS.handoffs).insertOne({ _id: key as never, ...doc, recordedAt: new Date() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // already recorded by an earlier attempt
    }
  }

  async function deliver(agencyId: string, key: string, message: Record<string, unknown>): Promise<'webhook' | 'manual'> {
    const agency = await refs.agency(agencyId);
    if (!agency) throw ApplicationFailure.nonRetryable(`agency ${agencyId} is not in the reference data`, 'ReferenceDataMissing');
    if (agency.handoff.mode === 'webhook') {
      try {
        await postJson(deps.fetch, agency.handoff.url, message, { idempotencyKey: key, nonRetryableType: 'AgencyRejected' });
        await record(key, { ...message, agencyId, channel: 'webhook' });
        return 'webhook';
      } catch (err) {
        // A webhook that refuses the message for good: the desk gets a manifest instead.
        if (!(err instanceof ApplicationFailure && err.type === 'AgencyRejected')) throw err;
        await record(key, { ...message, agencyId, channel: 'manual', webhookError: err.message });
        return 'manual';
      }
    }
    await record(key, { ...message, agencyId, channel: 'manual' });
    return 'manual';
  }

  return {
    async handOffToAgency(input: { dossierCode: string; agencyId: string; mode: 'electronic' | 'paper'; dossier: DossierView }) {
      const key = `${input.dossierCode}:handoff:${input.mode}`;
      const { dossier } = input;
      const channel = await deliver(input.agencyId, key, {
        type: 'dossier.handoff',
        mode: input.mode,
        dossierCode: input.dossierCode,
        procedureCode: dossier.procedureCode,
        applicant: dossier.applicant,
        submittedAt: dossier.submittedAt,
      });
      return { channel };
    },

    async informAgency(input: { dossierCode: string; agencyId: string; key: string; about: 'withdrawn' }) {
      const channel = await deliver(input.agencyId, input.key, { type: `dossier.${input.about}`, dossierCode: input.dossierCode });
      return { channel };
    },
  };
}
