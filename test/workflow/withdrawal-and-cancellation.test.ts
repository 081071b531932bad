/**
 * Dossiers that end early: the citizen withdraws (compensation: courier jobs
 * cancelled, the agency told, what is not owed refunded), or the paper dossier
 * cannot be picked up after three attempts.
 */
import { submission } from '../support/fixtures';
import { count, deadline, electronicSubmission, eventually, firedAt, pickUp, templates, toAwaitingPickup, toProcessing } from '../support/steps';
import { at, endOf } from '../support/time';
import { agency, courier, portal } from '../support/workflow-harness';
import { useHarness } from '../support/use-harness';

const h = useHarness({ label: 'withdrawal' });

/** Judicial record extract at the provincial Department of Justice: fee 200,000 + pickup 20,000 + delivery 22,000, prepaid. */
const judicialRecord = (overrides: Parameters<typeof submission>[0] = {}) =>
  submission({ procedureCode: '2.000488', agencyId: 'QN-STP', submittedAt: at(h.monday, 0, '09:15'), payment: { method: 'prepaid', reference: 'PAY-W' }, ...overrides });

const handoffs = (code: string) => h.db.collection('handoffs').find({ dossierCode: code }).toArray();

describe('withdrawal', () => {
  test('while processing: the agency is told, the procedure fee and pickup charge are kept, the delivery charge refunded', async () => {
    const sub = judicialRecord();
    await toAwaitingPickup(h, sub);
    await pickUp(h, sub, at(h.monday, 0, '14:00'));
    await h.advanceTo(at(h.monday, 1, '10:00'));
    await h.event(sub.code, agency('QN-STP'), { type: 'agency.received' }, { occurredAt: at(h.monday, 1, '10:00') });

    await h.advanceTo(at(h.monday, 2, '10:00'));
    const withdrawn = await h.event(sub.code, portal, { type: 'citizen.withdrawn', reason: 'Không còn nhu cầu' }, { occurredAt: at(h.monday, 2, '10:00') });
    expect(withdrawn.status).toBe('withdrawn');
    // The open processing deadline ends where the dossier stopped.
    expect(deadline(withdrawn, 'processing')).toMatchObject({ completedAt: at(h.monday, 2, '10:00'), state: 'met_on_time' });
    expect(withdrawn.fees).toMatchObject({ totalVnd: 242000, paidVnd: 220000, dueVnd: 0 });
    expect(withdrawn.timeline.at(-1)).toMatchObject({ type: 'citizen.withdrawn', note: 'Không còn nhu cầu' });

    const final = await h.result(sub.code);
    expect(final.status).toBe('withdrawn');
    const ledger = await h.ledger(sub.code);
    expect(ledger.map((e) => [e.kind, e.method, e.amountVnd]).sort()).toEqual([
      ['capture', 'gateway', 242000],
      ['refund', 'gateway', 22000],
    ]);
    const capture = h.gateway.captures.find((c) => c.idempotencyKey === `${sub.code}:capture`)!;
    expect(capture).toMatchObject({ amountVnd: 242000, refundedVnd: 22000 });
    expect(h.gateway.refunds.filter((r) => r.captureId === capture.id)).toEqual([
      expect.objectContaining({ amountVnd: 22000, idempotencyKey: `${sub.code}:refund:1` }),
    ]);
    const messages = await handoffs(sub.code);
    expect(messages.map((m) => [m.type, m.channel]).sort()).toEqual([
      ['dossier.handoff', 'manual'],
      ['dossier.withdrawn', 'manual'],
    ]);
    expect((await h.jobs(sub.code)).map((j) => [j.purpose, j.status])).toEqual([['pickup', 'done']]);
    expect(await templates(h, sub.code, 'citizen')).toContain('dossier.withdrawn');
    expect(await h.readModel(sub.code)).toMatchObject({ status: 'withdrawn' });
    expect((await h.db.collection('deadlines').findOne({ _id: `${sub.code}:processing` as never }))!.state).toBe('met_on_time');
    await h.recordHistory(sub.code, 'withdrawn-while-processing');
  });

  test('while the courier is on the way: the pickup job is cancelled and everything refunded', async () => {
    const sub = judicialRecord();
    const awaiting = await toAwaitingPickup(h, sub);
    expect(awaiting.job).toMatchObject({ purpose: 'pickup', attempt: 1, courierId: 'HL-BT01' });
    await h.advanceTo(at(h.monday, 0, '11:00'));
    const withdrawn = await h.event(sub.code, portal, { type: 'citizen.withdrawn', reason: 'Nộp trực tiếp' });
    expect(withdrawn.status).toBe('withdrawn');
    expect(withdrawn.job).toBeNull();
    expect(withdrawn.fees).toMatchObject({ paidVnd: 0, dueVnd: 0 });
    await h.result(sub.code);
    expect(await h.jobs(sub.code)).toEqual([expect.objectContaining({ purpose: 'pickup', status: 'cancelled', cancelReason: 'withdrawn' })]);
    expect((await h.ledger(sub.code)).map((e) => [e.kind, e.amountVnd]).sort()).toEqual([
      ['capture', 242000],
      ['refund', 242000],
    ]);
    expect(h.gateway.refunds.filter((r) => r.idempotencyKey.startsWith(sub.code)).map((r) => r.amountVnd)).toEqual([242000]);
    // No paper handoff happened; the agency is still told of the withdrawal.
    expect((await handoffs(sub.code)).map((m) => m.type)).toEqual(['dossier.withdrawn']);
  });

  test('cash paid at pickup, withdrawn in transit: the post keeps its pickup charge and refunds the rest in cash', async () => {
    const sub = judicialRecord({ payment: { method: 'cash' } });
    await toAwaitingPickup(h, sub);
    await h.advanceTo(at(h.monday, 0, '14:00'));
    const short = await h.refusal(sub.code, courier('HL-BT01'), { type: 'courier.picked_up', collectedVnd: 200000 });
    expect(short).toMatchObject({ status: 422, type: 'cash-mismatch' });
    const picked = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.picked_up', collectedVnd: 242000 });
    expect(picked.fees).toMatchObject({ paidVnd: 242000, dueVnd: 0 });
    await h.advanceTo(at(h.monday, 0, '16:00'));
    const withdrawn = await h.event(sub.code, portal, { type: 'citizen.withdrawn', reason: 'Đổi ý' });
    expect(withdrawn.fees).toMatchObject({ paidVnd: 20000, dueVnd: 0 });
    await h.result(sub.code);
    expect((await h.ledger(sub.code)).map((e) => [e.kind, e.method, e.amountVnd]).sort()).toEqual([
      ['cash', 'cash', 242000],
      ['refund', 'cash', 222000],
    ]);
    expect(h.gateway.requests.filter((r) => r.idempotencyKey.startsWith(sub.code))).toHaveLength(0);
  });

  test('withdrawn before the electronic handoff went out: the agency that receives it is told of the withdrawal', async () => {
    // FAIL: the gateway answers 503 once, so the capture (first in line) is retried 2 s later and the handoff waits behind it.
    const sub = electronicSubmission(h.monday, { payment: { method: 'prepaid', reference: 'PAY-FAIL-W' } });
    const registered = await h.submit(sub);
    expect(registered.status).toBe('submitted');
    const withdrawn = await h.event(sub.code, portal, { type: 'citizen.withdrawn', reason: 'Nộp nhầm' });
    expect(withdrawn.status).toBe('withdrawn');
    expect(deadline(withdrawn, 'handoff')).toMatchObject({ state: 'met_on_time' });
    const final = await h.result(sub.code);
    expect(final.status).toBe('withdrawn');
    const messages = (await handoffs(sub.code)).map((m) => m.type as string);
    // Whatever reached the agency, a withdrawal notice follows it.
    if (messages.includes('dossier.handoff')) expect(messages.sort()).toEqual(['dossier.handoff', 'dossier.withdrawn']);
    else expect(messages).toEqual([]);
    // The capture settled after the withdrawal: all of it is refunded.
    expect((await h.ledger(sub.code)).map((e) => [e.kind, e.amountVnd]).sort()).toEqual([
      ['capture', 122000],
      ['refund', 122000],
    ]);
  });

  test('refused once the result is released (409), and nothing changes', async () => {
    const sub = electronicSubmission(h.monday);
    await toProcessing(h, sub, at(h.monday, 0, '10:00'));
    await h.advanceTo(at(h.monday, 1, '10:00'));
    const released = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.completed', outcome: 'approved' });
    expect(released.status).toBe('result_ready');
    const atRelease = await h.refusal(sub.code, portal, { type: 'citizen.withdrawn', reason: 'Muộn' });
    expect(atRelease).toMatchObject({ status: 409, type: 'invalid-transition' });
    const out = await h.until(sub.code, (v) => v.status === 'out_for_delivery' && v.job !== null);
    const later = await h.refusal(sub.code, portal, { type: 'citizen.withdrawn', reason: 'Muộn' });
    expect(later).toMatchObject({ status: 409, type: 'invalid-transition' });
    const after = await h.view(sub.code);
    expect(after.version).toBe(out.version);
    expect(after.status).toBe('out_for_delivery');
    expect(h.gateway.refunds.filter((r) => r.idempotencyKey.startsWith(sub.code))).toHaveLength(0);
  });
});

describe('pickup failures', () => {
  test('re-dispatched at 08:00 the next working day, cancelled after the third failure, prepaid money refunded', async () => {
    const sub = judicialRecord();
    await toAwaitingPickup(h, sub);

    await h.advanceTo(at(h.monday, 0, '11:00'));
    const first = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.pickup_failed', reason: 'Không có nhà' });
    expect(first.status).toBe('awaiting_pickup');
    expect(first.job).toBeNull();
    expect(first.pickupFailures).toEqual([{ occurredAt: expect.any(String), reason: 'Không có nhà' }]);
    // No job until the re-dispatch: a second failure now is refused.
    expect(await h.refusal(sub.code, courier('HL-BT01'), { type: 'courier.pickup_failed', reason: 'again' })).toMatchObject({
      status: 409,
      type: 'no-pickup-job',
    });
    await eventually(async () => {
      const notice = (await h.outbox(sub.code)).find((m) => m.template === 'pickup.failed');
      expect(notice).toMatchObject({ audience: 'citizen', data: { redispatchAt: at(h.monday, 1, '08:00') } });
    });

    await h.advanceTo(at(h.monday, 1, '07:59'));
    expect((await h.view(sub.code)).job).toBeNull();
    await h.advanceTo(at(h.monday, 1, '08:01'));
    const second = await h.until(sub.code, (v) => v.job?.attempt === 2, 'second dispatch');
    expect(second.job).toMatchObject({ purpose: 'pickup', attempt: 2, courierId: 'HL-BT01' });
    expect(second.timeline.find((t) => t.type === 'courier.pickup_redispatched')).toMatchObject({
      occurredAt: firedAt(at(h.monday, 1, '08:00')),
      note: 'attempt 2',
    });

    // Failing on a Friday afternoon: the next attempt is Monday morning.
    await h.advanceTo(at(h.monday, 4, '16:00'));
    await h.event(sub.code, courier('HL-BT01'), { type: 'courier.pickup_failed', reason: 'Sai địa chỉ' });
    await h.advanceTo(at(h.monday, 7, '07:59'));
    expect((await h.view(sub.code)).job).toBeNull();
    await h.advanceTo(at(h.monday, 7, '08:01'));
    const third = await h.until(sub.code, (v) => v.job?.attempt === 3, 'third dispatch');
    expect(third.job).toMatchObject({ purpose: 'pickup', attempt: 3 });
    expect(third.status).toBe('awaiting_pickup');
    // The pickup due (end of Tuesday) passed long ago.
    expect(deadline(third, 'pickup')).toMatchObject({ state: 'overdue', dueAt: endOf(h.monday, 1) });

    await h.advanceTo(at(h.monday, 7, '10:00'));
    const cancelled = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.pickup_failed', reason: 'Từ chối' }, { occurredAt: at(h.monday, 7, '10:00') });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.pickupFailures.map((f) => f.reason)).toEqual(['Không có nhà', 'Sai địa chỉ', 'Từ chối']);
    expect(cancelled.fees).toMatchObject({ paidVnd: 0, dueVnd: 0 });
    // The open pickup record is closed at the cancellation (after its due: late).
    expect(deadline(cancelled, 'pickup')).toMatchObject({ completedAt: at(h.monday, 7, '10:00'), state: 'met_late' });

    const final = await h.result(sub.code);
    expect(final.status).toBe('cancelled');
    expect((await h.jobs(sub.code)).map((j) => [j.attempt, j.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect((await h.ledger(sub.code)).map((e) => [e.kind, e.amountVnd]).sort()).toEqual([
      ['capture', 242000],
      ['refund', 242000],
    ]);
    const capture = h.gateway.captures.find((c) => c.idempotencyKey === `${sub.code}:capture`)!;
    expect(capture.refundedVnd).toBe(242000);
    const t = await h.outbox(sub.code);
    expect(t.filter((m) => m.template === 'dossier.cancelled').map((m) => m.audience).sort()).toEqual(['citizen', 'manager']);
    expect(count(t.map((m) => m.template), 'pickup.failed')).toBe(2);
    expect(await h.readModel(sub.code)).toMatchObject({ status: 'cancelled' });
    await h.recordHistory(sub.code, 'pickup-failures-cancelled');
  });
});
