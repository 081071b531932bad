/**
 * The return leg when things go wrong: a failed delivery, the invitations to
 * collect (at least twice, 2 working days apart), the return to the agency,
 * redelivery on request (with its charge), cash on delivery, and the identity
 * checks at the door and at the counter.
 */
import { count, deadline, electronicSubmission, eventually, firedAt, SELF, templates, toOutForDelivery, toProcessing } from '../support/steps';
import { at, endOf } from '../support/time';
import { clerk, courier, portal } from '../support/workflow-harness';
import { useHarness } from '../support/use-harness';

const h = useHarness({ label: 'delivery' });

const NOT_HOME = { type: 'courier.delivery_attempted' as const, outcome: 'failed' as const, reason: 'not_home' as const, note: 'Gọi không nghe máy' };

/** Electronic submission, received Monday 10:00, completed Tuesday 10:00: delivery due end of Wednesday. */
async function outForDelivery(overrides: Parameters<typeof electronicSubmission>[1] = {}) {
  const sub = electronicSubmission(h.monday, overrides);
  await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  const out = await toOutForDelivery(h, sub, at(h.monday, 1, '10:00'));
  expect(deadline(out, 'delivery')).toMatchObject({ owner: 'post', state: 'open', dueAt: endOf(h.monday, 2) });
  expect(out.job).toMatchObject({ purpose: 'delivery', attempt: 1, courierId: 'HL-BT01' });
  return { sub, out };
}

async function failAttempt(code: string, when: string) {
  await h.advanceTo(when);
  return h.event(code, courier('HL-BT01'), NOT_HOME, { occurredAt: when });
}

test('nobody home: invitation at once, a second two working days later at 08:00, back to the agency after two more', async () => {
  const { sub } = await outForDelivery();
  const held = await failAttempt(sub.code, at(h.monday, 2, '10:00'));
  expect(held.status).toBe('held_at_post_office');
  // The return leg's clock stops at the first attempt, whatever its outcome.
  expect(deadline(held, 'delivery')).toMatchObject({ state: 'met_on_time', completedAt: at(h.monday, 2, '10:00') });
  expect(held.attempts).toEqual([
    { attempt: 1, occurredAt: at(h.monday, 2, '10:00'), outcome: 'failed', reason: 'not_home', note: 'Gọi không nghe máy', courierId: 'HL-BT01' },
  ]);
  expect(held.invitations).toEqual({ sentAt: [at(h.monday, 2, '10:00')], nextAt: at(h.monday, 4, '08:00'), returnAt: endOf(h.monday, 8) });
  expect(held.job).toBeNull();
  await eventually(async () => {
    const inv = (await h.outbox(sub.code)).filter((m) => m.template === 'result.invitation');
    expect(inv.map((m) => [m.audience, m.data.invitation])).toEqual([['citizen', 1]]);
    expect(inv[0]!.to).toMatchObject({ phone: sub.applicant.phone });
  });
  await eventually(async () => expect((await h.jobs(sub.code)).map((j) => [j.purpose, j.status])).toEqual([['delivery', 'failed']]));

  await h.advanceTo(at(h.monday, 4, '07:59'));
  expect((await h.view(sub.code)).invitations.sentAt).toHaveLength(1);
  await h.advanceTo(at(h.monday, 4, '08:01'));
  const second = await h.until(sub.code, (v) => v.invitations.sentAt.length === 2, 'second invitation');
  expect(second.invitations).toEqual({ sentAt: [at(h.monday, 2, '10:00'), firedAt(at(h.monday, 4, '08:00'))], nextAt: null, returnAt: endOf(h.monday, 8) });
  expect(second.status).toBe('held_at_post_office');
  await eventually(async () => expect(count(await templates(h, sub.code, 'citizen'), 'result.invitation')).toBe(2));

  // Friday + 2 working days = Tuesday; returned when Tuesday ends.
  await h.advanceTo(at(h.monday, 8, '23:59'));
  expect((await h.view(sub.code)).status).toBe('held_at_post_office');
  await h.advanceTo(at(h.monday, 9, '00:01'));
  const final = await h.result(sub.code);
  expect(final.status).toBe('returned_to_agency');
  expect(final.timeline.find((t) => t.type === 'result.returned_to_agency')).toMatchObject({ occurredAt: firedAt(endOf(h.monday, 8)) });
  expect(final.deadlines.map((d) => [d.stage, d.state])).toEqual([
    ['handoff', 'met_on_time'],
    ['processing', 'met_on_time'],
    ['delivery', 'met_on_time'],
  ]);
  const returned = (await h.outbox(sub.code)).filter((m) => m.template === 'result.returned');
  expect(returned.map((m) => m.audience).sort()).toEqual(['agency', 'citizen']);
  expect(await h.readModel(sub.code)).toMatchObject({ status: 'returned_to_agency' });
  // The workflow has ended: a later event reaches no workflow (the API answers from the read model).
  expect((await h.handle(sub.code).describe()).status.name).toBe('COMPLETED');
  await h.recordHistory(sub.code, 'delivery-failed-returned');
});

test('redelivery on request: a redelivery charge, a new courier job, cash on delivery for what is owed', async () => {
  const { sub } = await outForDelivery();
  const wrongNow = await h.refusal(sub.code, portal, { type: 'citizen.redelivery_requested' });
  expect(wrongNow).toMatchObject({ status: 409 });
  await failAttempt(sub.code, at(h.monday, 2, '10:00'));

  await h.advanceTo(at(h.monday, 3, '09:00'));
  const again = await h.event(sub.code, portal, { type: 'citizen.redelivery_requested', note: 'Chiều thứ Năm có nhà' });
  expect(again.status).toBe('out_for_delivery');
  expect(again.fees).toEqual({
    items: [
      { name: 'Lệ phí đăng ký hộ kinh doanh', amountVnd: 100000, payee: 'agency' },
      { name: 'Cước chuyển phát kết quả', amountVnd: 22000, payee: 'post' },
      { name: 'Cước phát lại', amountVnd: 15000, payee: 'post' },
    ],
    totalVnd: 137000,
    paidVnd: 122000,
    dueVnd: 15000,
  });
  expect(again.invitations).toMatchObject({ nextAt: null, returnAt: null });
  const redispatched = await h.until(sub.code, (v) => v.job?.purpose === 'redelivery', 'redelivery job');
  expect(redispatched.job).toMatchObject({ purpose: 'redelivery', attempt: 2, courierId: 'HL-BT01' });
  await eventually(async () =>
    expect((await h.jobs(sub.code)).map((j) => [j.purpose, j.attempt, j.status])).toEqual([
      ['delivery', 1, 'failed'],
      ['redelivery', 2, 'open'],
    ]),
  );
  await eventually(async () => {
    const scheduled = (await h.outbox(sub.code)).find((m) => m.template === 'result.redelivery_scheduled');
    expect(scheduled).toMatchObject({ audience: 'citizen', data: { chargeVnd: 15000 } });
  });

  // The old invitation schedule is void: nothing fires on Friday or on Tuesday night.
  await h.advanceTo(at(h.monday, 9, '09:00'));
  const waiting = await h.view(sub.code);
  expect(waiting.status).toBe('out_for_delivery');
  expect(waiting.invitations.sentAt).toHaveLength(1);

  // Cash on delivery must settle exactly what is owed; a refusal changes nothing.
  const before = await h.view(sub.code);
  const short = await h.refusal(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF, collectedVnd: 10000 });
  expect(short).toMatchObject({ status: 422, type: 'cash-mismatch', errors: [expect.objectContaining({ path: 'collectedVnd' })] });
  const none = await h.refusal(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF });
  expect(none).toMatchObject({ status: 422, type: 'cash-mismatch' });
  const cashOnFailure = await h.refusal(sub.code, courier('HL-BT01'), { ...NOT_HOME, collectedVnd: 15000 });
  expect(cashOnFailure).toMatchObject({ status: 422, type: 'cash-mismatch' });
  const after = await h.view(sub.code);
  expect(after.version).toBe(before.version);
  expect(after.attempts).toHaveLength(1);
  expect(await h.ledger(sub.code)).toHaveLength(1);

  const delivered = await h.event(sub.code, courier('HL-BT01'), {
    type: 'courier.delivery_attempted',
    outcome: 'delivered',
    recipient: SELF,
    collectedVnd: 15000,
  });
  expect(delivered.status).toBe('delivered');
  expect(delivered.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
    [1, 'failed'],
    [2, 'delivered'],
  ]);
  expect(delivered.fees).toMatchObject({ totalVnd: 137000, paidVnd: 137000, dueVnd: 0 });
  await h.result(sub.code);
  const ledger = await h.ledger(sub.code);
  expect(ledger.map((e) => [e.kind, e.method, e.amountVnd]).sort()).toEqual([
    ['capture', 'gateway', 122000],
    ['cash', 'cash', 15000],
  ]);
  expect(ledger.find((e) => e.kind === 'cash')).toMatchObject({ by: 'HL-BT01' });
  expect((await h.jobs(sub.code)).map((j) => [j.purpose, j.status])).toEqual([
    ['delivery', 'failed'],
    ['redelivery', 'done'],
  ]);
});

test('a held result collected at the counter by a proxy ends the invitations', async () => {
  const { sub } = await outForDelivery();
  await failAttempt(sub.code, at(h.monday, 2, '10:00'));
  await h.advanceTo(at(h.monday, 3, '15:00'));
  const collected = await h.event(sub.code, clerk, {
    type: 'counter.collected',
    recipient: { fullName: 'Trần Thị B', idNumber: '022080009999', relationship: 'proxy', authorizationRef: 'UQ-12' },
  });
  expect(collected.status).toBe('collected');
  expect(collected.invitations).toMatchObject({ nextAt: null, returnAt: null });
  const final = await h.result(sub.code);
  expect(final.status).toBe('collected');
  expect(count(await templates(h, sub.code, 'citizen'), 'result.invitation')).toBe(1);
});

test('cash dossier: the whole amount is collected on delivery', async () => {
  const { sub, out } = await outForDelivery({ payment: { method: 'cash' } });
  expect(out.fees).toMatchObject({ totalVnd: 122000, paidVnd: 0, dueVnd: 122000 });
  await h.advanceTo(at(h.monday, 2, '10:00'));
  const wrong = await h.refusal(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF, collectedVnd: 100000 });
  expect(wrong).toMatchObject({ status: 422, type: 'cash-mismatch' });
  const delivered = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF, collectedVnd: 122000 });
  expect(delivered.fees).toMatchObject({ paidVnd: 122000, dueVnd: 0 });
  await eventually(async () => expect(await h.ledger(sub.code)).toEqual([expect.objectContaining({ kind: 'cash', amountVnd: 122000 })]));
  expect(h.gateway.captures.filter((c) => c.idempotencyKey.startsWith(sub.code))).toHaveLength(0);
});

describe('identity at delivery', () => {
  test('self with another ID number, or a proxy without authorisation: 422 and nothing changes', async () => {
    const { sub, out } = await outForDelivery();
    await h.advanceTo(at(h.monday, 2, '10:00'));
    const stranger = await h.refusal(sub.code, courier('HL-BT01'), {
      type: 'courier.delivery_attempted',
      outcome: 'delivered',
      recipient: { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080009999', relationship: 'self' },
    });
    expect(stranger).toMatchObject({ status: 422, type: 'identity-mismatch', errors: [{ path: 'recipient.idNumber', message: expect.any(String) }] });
    const proxy = await h.refusal(sub.code, courier('HL-BT01'), {
      type: 'courier.delivery_attempted',
      outcome: 'delivered',
      recipient: { fullName: 'Trần Thị B', idNumber: '022080009999', relationship: 'proxy' },
    });
    expect(proxy).toMatchObject({ status: 422, type: 'authorization-required', errors: [{ path: 'recipient.authorizationRef', message: expect.any(String) }] });
    // Another courier than the one assigned cannot report on the job.
    const notMine = await h.refusal(sub.code, courier('HL-BT02'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF });
    expect(notMine).toMatchObject({ status: 404 });

    const unchanged = await h.view(sub.code);
    expect(unchanged.version).toBe(out.version);
    expect(unchanged.status).toBe('out_for_delivery');
    expect(unchanged.attempts).toEqual([]);
    expect(deadline(unchanged, 'delivery')).toMatchObject({ state: 'open', completedAt: null });
    // `out` was read from the workflow; its projection may land a moment later, and no refusal moves it on.
    await eventually(async () => expect((await h.readModel(sub.code))!.version).toBe(out.version));

    // The applicant's ID, spaced as printed on the card, is the same ID.
    const delivered = await h.event(sub.code, courier('HL-BT01'), {
      type: 'courier.delivery_attempted',
      outcome: 'delivered',
      recipient: { fullName: 'Nguyễn Văn Hoàn', idNumber: '022 080 001 234', relationship: 'self' },
    });
    expect(delivered.status).toBe('delivered');
  });

  test('the same checks at the counter', async () => {
    const { sub } = await outForDelivery();
    await failAttempt(sub.code, at(h.monday, 2, '10:00'));
    const before = await h.view(sub.code);
    const stranger = await h.refusal(sub.code, clerk, {
      type: 'counter.collected',
      recipient: { fullName: 'X', idNumber: 'B1234567', relationship: 'self' },
    });
    expect(stranger).toMatchObject({ status: 422, type: 'identity-mismatch' });
    const proxy = await h.refusal(sub.code, clerk, { type: 'counter.collected', recipient: { fullName: 'Y', idNumber: 'B1234567', relationship: 'proxy' } });
    expect(proxy).toMatchObject({ status: 422, type: 'authorization-required' });
    expect((await h.view(sub.code)).version).toBe(before.version);
  });
});
