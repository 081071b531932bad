import type { Db } from 'mongodb';
import type { CourierJobRef } from '../domain/dossier';
import { chooseCourier } from '../domain/routes';
import type { Address } from '../domain/types';
import { COLLECTIONS, isDuplicateKey } from '../store/db';
import { openCourierKey } from '../store/courier-jobs';
import type { CourierJobDoc } from '../store/documents';
import type { ReferenceData } from '../store/reference-data';

/** Courier jobs: one document per pickup, delivery or redelivery attempt, keyed so a retry finds it. */
export function createCourierJobActivities(deps: { db: Db; refs: ReferenceData }) {
  const jobs = () => deps.db.collection<CourierJobDoc>(COLLECTIONS.courierJobs);

  return {
    async dispatchCourier(input: {
      dossierCode: string;
      agencyId: string;
      purpose: CourierJobRef['purpose'];
      attempt: number;
      address: Address | null;
    }): Promise<CourierJobRef> {
      const _id = `${input.dossierCode}:${input.purpose}:${input.attempt}`;
      // Insert first, read only on a duplicate key (a retry): one command in the common case.
      const courier = chooseCourier(await deps.refs.couriers(), input.address);
      const now = new Date();
      const doc: CourierJobDoc = {
        _id,
        dossierCode: input.dossierCode,
        agencyId: input.agencyId,
        purpose: input.purpose,
        attempt: input.attempt,
        courierId: courier?.id ?? null,
        status: 'open',
        address: input.address,
        createdAt: now,
        updatedAt: now,
      };
      const key = openCourierKey(doc);
      if (key !== undefined) doc.openCourierId = key;
      try {
        await jobs().insertOne(doc);
        return toRef(doc);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // The earlier attempt's job, with the courier it chose.
        return toRef((await jobs().findOne({ _id }))!);
      }
    },

    async closeCourierJob(input: { jobId: string; outcome: 'done' | 'failed' }): Promise<void> {
      await jobs().updateOne({ _id: input.jobId, status: 'open' }, { $set: { status: input.outcome, updatedAt: new Date() }, $unset: { openCourierId: '' } });
    },

    async cancelCourierJobs(input: { dossierCode: string; reason: string }): Promise<{ cancelled: number }> {
      const r = await jobs().updateMany(
        { dossierCode: input.dossierCode, status: 'open' },
        { $set: { status: 'cancelled', cancelReason: input.reason, updatedAt: new Date() }, $unset: { openCourierId: '' } },
      );
      return { cancelled: r.modifiedCount };
    },
  };
}

function toRef(doc: CourierJobDoc): CourierJobRef {
  return { jobId: doc._id, purpose: doc.purpose, attempt: doc.attempt, courierId: doc.courierId };
}
