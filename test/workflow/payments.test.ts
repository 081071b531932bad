/**
 * Prepaid capture through the sandbox gateway: retried after a failure or a
 * timeout, it charges once (idempotency key); a declined payment leaves the
 * fee due. Magic references: FAIL (503 once), SLOW (captured, answered late),
 * DECLINE (402).
 */
import { submission } from '../support/fixtures';
import { deadline, electronicSubmission, eventually, SELF, toOutForDelivery } from '../support/steps';
import { at } from '../support/time';
import { agency, courier, portal } from '../support/workflow-harness';
import { useHarness } from '../support/use-harness';

/**
 * The capture activity's HTTP call gives up after 10 s (activities/http.ts),
 * well inside the activity's 30 s start-to-close timeout: a gateway answering
 * after 11 s is a timeout for the activity, which is retried (2 s backoff).
 */
const SLOW_MS = 11_000;

describe('capture retried', () => {
  const h = useHarness({ label: 'pay-retry', gatewaySlowMs: SLOW_MS });

  const requestsFor = (key: string) => h.gateway.requests.filter((r) => r.path === '/v1/captures' && r.idempotencyKey === key);

  test('a 503 then success charges once', async () => {
    const sub = electronicSubmission(h.monday, { payment: { method: 'prepaid', reference: 'PAY-FAIL-1' } });
    await h.submit(sub);
    const paid = await h.until(sub.code, (v) => v.fees.paidVnd > 0, 'capture after a 503');
    expect(paid.fees).toMatchObject({ totalVnd: 122000, paidVnd: 122000, dueVnd: 0 });
    const key = `${sub.code}:capture`;
    expect(requestsFor(key).length).toBeGreaterThanOrEqual(2);
    expect(h.gateway.captures.filter((c) => c.idempotencyKey === key)).toHaveLength(1);
    expect(await h.ledger(sub.code)).toEqual([expect.objectContaining({ _id: key, kind: 'capture', method: 'gateway', amountVnd: 122000 })]);
    expect(paid.timeline.filter((t) => t.type === 'system.payment_captured')).toHaveLength(1);
  });

  test('a gateway that is down holds up nothing else: the courier goes out, the capture lands once it is back', async () => {
    h.gateway.outage(true);
    try {
      const sub = submission({ payment: { method: 'prepaid', reference: 'PAY-OUTAGE-1' } });
      await h.submit(sub);
      // The capture keeps failing, yet the pickup is dispatched and the citizen told.
      const dispatched = await h.until(sub.code, (v) => v.status === 'awaiting_pickup' && v.job !== null, 'pickup dispatch during the outage');
      expect(dispatched.fees).toMatchObject({ paidVnd: 0, dueVnd: dispatched.fees.totalVnd });
      await eventually(async () => expect((await h.outbox(sub.code)).map((m) => m.template)).toContain('dossier.submitted'));
      // The dispatch (a local write) can be done before the capture's first attempt reaches the gateway.
      await eventually(async () => expect(requestsFor(`${sub.code}:capture`).length).toBeGreaterThanOrEqual(1));
      expect(h.gateway.captures).not.toContainEqual(expect.objectContaining({ idempotencyKey: `${sub.code}:capture` }));

      h.gateway.outage(false);
      await h.advanceTo(at(h.monday, 0, '09:30'));
      const paid = await h.until(sub.code, (v) => v.fees.paidVnd > 0, 'capture after the outage');
      expect(paid.fees).toMatchObject({ paidVnd: paid.fees.totalVnd, dueVnd: 0 });
      expect(h.gateway.captures.filter((c) => c.idempotencyKey === `${sub.code}:capture`)).toHaveLength(1);
      // Lanes commit concurrently; the read model still ends at the workflow's latest state.
      await eventually(async () => expect((await h.readModel(sub.code))?.version).toBe((await h.view(sub.code)).version));
      expect((await h.readModel(sub.code))!.view.timeline.map((t) => t.type)).toEqual(expect.arrayContaining(['system.job_created', 'system.payment_captured']));
    } finally {
      h.gateway.outage(false);
    }
  });

  test('a gateway answering after the timeout: the retry finds the first capture, charged once', async () => {
    const sub = electronicSubmission(h.monday, { payment: { method: 'prepaid', reference: 'PAY-SLOW-1' } });
    await h.submit(sub);
    const key = `${sub.code}:capture`;
    const paid = await h.until(sub.code, (v) => v.fees.paidVnd > 0, 'capture after a timeout');
    expect(paid.fees).toMatchObject({ paidVnd: 122000, dueVnd: 0 });
    expect(requestsFor(key).length).toBeGreaterThanOrEqual(2);
    expect(h.gateway.captures.filter((c) => c.idempotencyKey === key)).toHaveLength(1);
    const ledger = await h.ledger(sub.code);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ kind: 'capture', amountVnd: 122000, gatewayId: h.gateway.captures.find((c) => c.idempotencyKey === key)!.id });
  }, 40_000);

  test('withdrawn while the capture is still under way: the late capture is refunded, the courier job cancelled', async () => {
    const sub = submission({ procedureCode: '2.000488', agencyId: 'QN-STP', submittedAt: at(h.monday, 0, '09:15'), payment: { method: 'prepaid', reference: 'PAY-SLOW-2' } });
    await h.submit(sub);
    // The courier goes out while the capture is still waiting on the gateway. The dispatch is a
    // local activity now, so it can be written before the queued capture has reached the gateway.
    await h.until(sub.code, (v) => v.status === 'awaiting_pickup' && v.job !== null, 'pickup dispatch');
    await eventually(async () => expect(requestsFor(`${sub.code}:capture`)).toHaveLength(1));
    const withdrawn = await h.event(sub.code, portal, { type: 'citizen.withdrawn', reason: 'Nhầm hồ sơ' });
    expect(withdrawn.fees.paidVnd).toBe(0);
    expect(await h.ledger(sub.code)).toEqual([]);
    const final = await h.result(sub.code);
    expect(final.status).toBe('withdrawn');
    expect(final.fees).toMatchObject({ paidVnd: 0, dueVnd: 0 });
    expect(final.timeline.map((t) => t.type)).toEqual(expect.arrayContaining(['citizen.withdrawn', 'system.payment_captured', 'system.job_created']));
    expect((await h.ledger(sub.code)).map((e) => [e.kind, e.amountVnd]).sort()).toEqual([
      ['capture', 242000],
      ['refund', 242000],
    ]);
    expect(h.gateway.captures.find((c) => c.idempotencyKey === `${sub.code}:capture`)!.refundedVnd).toBe(242000);
    expect((await h.jobs(sub.code)).map((j) => [j.purpose, j.status])).toEqual([['pickup', 'cancelled']]);
  }, 40_000);
});

describe('capture declined', () => {
  const h = useHarness({ label: 'pay-decline' });

  test('the citizen is told, the fee stays due and is collected in cash on delivery', async () => {
    const sub = electronicSubmission(h.monday, { payment: { method: 'prepaid', reference: 'PAY-DECLINE-1' } });
    await h.submit(sub);
    const declined = await h.until(sub.code, (v) => v.timeline.some((t) => t.type === 'system.payment_declined'), 'decline');
    expect(declined.fees).toMatchObject({ totalVnd: 122000, paidVnd: 0, dueVnd: 122000 });
    expect(declined.timeline.find((t) => t.type === 'system.payment_declined')!.note).toContain('insufficient funds');
    await eventually(async () => {
      const notice = (await h.outbox(sub.code)).find((m) => m.template === 'payment.declined');
      expect(notice).toMatchObject({ audience: 'citizen', data: { reason: expect.stringContaining('insufficient funds') } });
    });
    expect(h.gateway.captures.filter((c) => c.idempotencyKey === `${sub.code}:capture`)).toHaveLength(0);
    expect(await h.ledger(sub.code)).toEqual([]);

    // The dossier goes on; the courier collects what is owed.
    await h.until(sub.code, (v) => v.status === 'in_transit_to_agency');
    await h.advanceTo(at(h.monday, 0, '10:00'));
    await h.event(sub.code, agency('HL-UBND'), { type: 'agency.received' });
    const out = await toOutForDelivery(h, sub, at(h.monday, 1, '10:00'));
    expect(deadline(out, 'processing').state).toBe('met_on_time');
    expect(out.fees.dueVnd).toBe(122000);
    await h.advanceTo(at(h.monday, 2, '10:00'));
    const refused = await h.refusal(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF });
    expect(refused).toMatchObject({ status: 422, type: 'cash-mismatch' });
    const delivered = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF, collectedVnd: 122000 });
    expect(delivered.fees).toMatchObject({ paidVnd: 122000, dueVnd: 0 });
  });
});
