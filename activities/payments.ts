import { ApplicationFailure } from '@temporalio/common';
import type { Db } from 'mongodb';
import { COLLECTIONS, isDuplicateKey } from '../store/db';
import type { LedgerEntry } from '../store/documents';
import { postJson, type Fetch } from './http';

export type CaptureResult =
  | { status: 'captured'; captureId: string; amountVnd: number }
  | { status: 'declined'; reason: string };

/**
 * Fee collection: prepaid capture and refunds through the payment gateway
 * (with idempotency keys, so a retried capture never charges twice), cash
 * taken by couriers and clerks, and the ledger of every movement.
 */
export function createPaymentActivities(deps: { db: Db; fetch: Fetch; gatewayUrl: string; gatewayApiKey?: string }) {
  const ledger = () => deps.db.collection<LedgerEntry>(COLLECTIONS.ledger);
  const headers: Record<string, string> = deps.gatewayApiKey ? { authorization: `Bearer ${deps.gatewayApiKey}` } : {};

  async function book(entry: LedgerEntry): Promise<void> {
    try {
      await ledger().insertOne(entry);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // booked by an earlier attempt
    }
  }

  return {
    async capturePayment(input: { dossierCode: string; key: string; amountVnd: number; reference: string }): Promise<CaptureResult> {
      const booked = await ledger().findOne({ _id: input.key });
      if (booked) return { status: 'captured', captureId: booked.gatewayId ?? booked._id, amountVnd: booked.amountVnd };
      let json: unknown;
      try {
        ({ json } = await postJson(
          deps.fetch,
          `${deps.gatewayUrl}/v1/captures`,
          { reference: input.reference, amountVnd: input.amountVnd, description: `Dossier ${input.dossierCode}` },
          { idempotencyKey: input.key, headers, nonRetryableType: 'PaymentRejected' },
        ));
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === 'PaymentRejected') return { status: 'declined', reason: err.message };
        throw err;
      }
      const body = json as { id?: string; status?: string; amountVnd?: number; reason?: string };
      if (body.status === 'declined') return { status: 'declined', reason: body.reason ?? 'declined by the gateway' };
      if (body.status !== 'captured' || !body.id) throw ApplicationFailure.retryable('unexpected gateway answer', 'GatewayProtocol');
      await book({
        _id: input.key,
        dossierCode: input.dossierCode,
        kind: 'capture',
        method: 'gateway',
        amountVnd: body.amountVnd ?? input.amountVnd,
        by: 'gateway',
        gatewayId: body.id,
        at: new Date(),
      });
      return { status: 'captured', captureId: body.id, amountVnd: body.amountVnd ?? input.amountVnd };
    },

    async refundPayment(input: { dossierCode: string; key: string; amountVnd: number; method: 'gateway' | 'cash'; reference?: string }) {
      if (await ledger().findOne({ _id: input.key })) return;
      let gatewayId: string | undefined;
      if (input.method === 'gateway') {
        const { json } = await postJson(
          deps.fetch,
          `${deps.gatewayUrl}/v1/refunds`,
          { captureId: input.reference, amountVnd: input.amountVnd },
          { idempotencyKey: input.key, headers, nonRetryableType: 'RefundRejected' },
        );
        gatewayId = (json as { id?: string }).id;
      }
      await book({
        _id: input.key,
        dossierCode: input.dossierCode,
        kind: 'refund',
        method: input.method,
        amountVnd: input.amountVnd,
        by: input.method === 'gateway' ? 'gateway' : 'post-office',
        ...(gatewayId ? { gatewayId } : {}),
        at: new Date(),
      });
    },

    async recordCashPayment(input: { dossierCode: string; key: string; amountVnd: number; by: string }) {
      await book({ _id: input.key, dossierCode: input.dossierCode, kind: 'cash', method: 'cash', amountVnd: input.amountVnd, by: input.by, at: new Date() });
    },
  };
}
