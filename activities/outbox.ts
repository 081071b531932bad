import type { Db } from 'mongodb';
import { COLLECTIONS, isDuplicateKey } from '../store/db';
import type { OutboxMessage } from '../store/documents';
import type { Fetch } from './http';

/**
 * Notifications go to a durable outbox (SMS and e-mail gateways read from it);
 * with `NOTIFY_WEBHOOK_URL` each message is also pushed there.
 */
export function createOutboxActivities(deps: { db: Db; fetch: Fetch; webhookUrl?: string }) {
  const outbox = () => deps.db.collection<OutboxMessage>(COLLECTIONS.outbox);
  return {
    async notify(input: {
      key: string;
      dossierCode: string;
      audience: OutboxMessage['audience'];
      template: string;
      data: Record<string, unknown>;
      agencyId: string;
      applicant: { phone: string; email: string | null };
    }): Promise<void> {
      const to = input.audience === 'citizen' ? { phone: input.applicant.phone, email: input.applicant.email } : { agencyId: input.agencyId };
      try {
        await outbox().insertOne({
          _id: input.key,
          dossierCode: input.dossierCode,
          audience: input.audience,
          template: input.template,
          data: input.data,
          to,
          createdAt: new Date(),
          webhookDeliveredAt: null,
        });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      if (!deps.webhookUrl) return;
      const message = await outbox().findOne({ _id: input.key });
      if (message?.webhookDeliveredAt) return;
      const res = await deps.fetch(deps.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': input.key },
        body: JSON.stringify({ id: input.key, dossierCode: input.dossierCode, audience: input.audience, template: input.template, data: input.data }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`notification webhook answered ${res.status}`);
      await outbox().updateOne({ _id: input.key }, { $set: { webhookDeliveredAt: new Date() } });
    },
  };
}
