import { submission } from '../support/fixtures';
import { historyFacts, historyToJSON } from '../support/history-json';
import { at, endOf } from '../support/time';
import { agency, clerk, courier } from '../support/workflow-harness';
import { useHarness } from '../support/use-harness';

const h = useHarness({ label: 'happy' });

const deadline = (v: { deadlines: { stage: string }[] }, stage: string) => v.deadlines.find((d) => d.stage === stage) as Record<string, unknown>;

test('collect and deliver at home, prepaid: every deadline met, one capture, the result delivered', async () => {
  // Judicial record extract: 10 working days, fee 200,000; pickup 20,000 and delivery 22,000 within Hạ Long.
  const sub = submission({ procedureCode: '2.000488', agencyId: 'QN-STP', submittedAt: at(h.monday, 0, '09:15') });
  const registered = await h.submit(sub);
  expect(registered.fees).toEqual({
    items: [
      { name: 'Phí cung cấp thông tin lý lịch tư pháp', amountVnd: 200000, payee: 'agency' },
      { name: 'Cước thu gom hồ sơ', amountVnd: 20000, payee: 'post' },
      { name: 'Cước chuyển phát kết quả', amountVnd: 22000, payee: 'post' },
    ],
    totalVnd: 242000,
    paidVnd: 0,
    dueVnd: 242000,
  });
  expect(deadline(registered, 'pickup')).toMatchObject({ owner: 'post', state: 'open', dueAt: endOf(h.monday, 1) });

  const awaiting = await h.until(sub.code, (v) => v.status === 'awaiting_pickup' && v.fees.paidVnd === 242000, 'pickup dispatch and capture');
  expect(awaiting.job).toMatchObject({ purpose: 'pickup', courierId: 'HL-BT01' });

  await h.advanceTo(at(h.monday, 0, '14:05'));
  const pickedUp = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.picked_up' }, { occurredAt: at(h.monday, 0, '14:00') });
  expect(pickedUp.status).toBe('in_transit_to_agency');
  expect(deadline(pickedUp, 'pickup')).toMatchObject({ state: 'met_on_time', completedAt: at(h.monday, 0, '14:00') });
  // Same district: J+1 from the pickup day.
  expect(deadline(pickedUp, 'handoff')).toMatchObject({ owner: 'post', state: 'open', dueAt: endOf(h.monday, 1) });

  await h.advanceTo(at(h.monday, 1, '10:00'));
  const received = await h.event(sub.code, agency('QN-STP'), { type: 'agency.received', receiptNo: 'BN-001' });
  expect(received.status).toBe('processing');
  expect(deadline(received, 'handoff')).toMatchObject({ state: 'met_on_time' });
  // Received Tuesday: 10 working days are Wed..Fri, Mon..Fri, Mon..Tue → ends Tuesday of week 3.
  expect(deadline(received, 'processing')).toMatchObject({ owner: 'agency', state: 'open', dueAt: endOf(h.monday, 15) });

  await h.advanceTo(at(h.monday, 8, '11:00'));
  const completed = await h.event(sub.code, agency('QN-STP'), { type: 'agency.completed', outcome: 'approved', resultRef: 'LLTP-2026-1' }, { occurredAt: at(h.monday, 8, '11:00') });
  expect(completed.status).toBe('result_ready');
  expect(deadline(completed, 'processing')).toMatchObject({ state: 'met_on_time', completedAt: at(h.monday, 8, '11:00') });
  expect(deadline(completed, 'delivery')).toMatchObject({ owner: 'post', state: 'open', dueAt: endOf(h.monday, 9) });

  const out = await h.until(sub.code, (v) => v.status === 'out_for_delivery', 'delivery dispatch');
  expect(out.job).toMatchObject({ purpose: 'delivery', courierId: 'HL-BT01' });

  await h.advanceTo(at(h.monday, 9, '09:30'));
  const delivered = await h.event(sub.code, courier('HL-BT01'), {
    type: 'courier.delivery_attempted',
    outcome: 'delivered',
    recipient: { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' },
  });
  expect(delivered.status).toBe('delivered');
  expect(delivered.deadlines.map((d) => [d.stage, d.state])).toEqual([
    ['pickup', 'met_on_time'],
    ['handoff', 'met_on_time'],
    ['processing', 'met_on_time'],
    ['delivery', 'met_on_time'],
  ]);
  expect(delivered.fees).toMatchObject({ totalVnd: 242000, paidVnd: 242000, dueVnd: 0 });

  await h.result(sub.code);
  await h.recordHistory(sub.code, 'happy-path-collect-deliver');
  const doc = await h.readModel(sub.code);
  expect(doc).toMatchObject({ status: 'delivered', agencyId: 'QN-STP' });
  expect(doc!.view.timeline.map((t) => t.type)).toEqual(
    expect.arrayContaining(['dossier.submitted', 'courier.picked_up', 'agency.received', 'agency.completed', 'courier.delivery_attempted']),
  );
  expect(await h.ledger(sub.code)).toEqual([expect.objectContaining({ kind: 'capture', amountVnd: 242000 })]);
  expect(h.gateway.captures.filter((c) => c.idempotencyKey === `${sub.code}:capture`)).toHaveLength(1);
  const jobs = await h.jobs(sub.code);
  expect(jobs.map((j) => [j.purpose, j.status])).toEqual([
    ['pickup', 'done'],
    ['delivery', 'done'],
  ]);
  const outbox = await h.outbox(sub.code);
  expect(outbox.map((m) => m.template)).toEqual(expect.arrayContaining(['dossier.submitted', 'dossier.received', 'result.delivered']));
});

test('a submitter that sends no reference data (as the API before them): the workflow reads them, and registers the same dossier', async () => {
  const at915 = at(h.monday, 0, '09:15');
  const withContext = submission({ procedureCode: '2.000488', agencyId: 'QN-STP', submittedAt: at915 });
  const without = submission({ procedureCode: '2.000488', agencyId: 'QN-STP', submittedAt: at915 });
  const a = await h.submit(withContext);
  const b = await h.submit(without, { withContext: false });
  const shape = (v: typeof a) => ({ status: v.status, fees: v.fees, deadlines: v.deadlines });
  expect(shape(b)).toEqual(shape(a));
  for (const code of [withContext.code, without.code]) {
    const awaiting = await h.until(code, (v) => v.status === 'awaiting_pickup', 'pickup dispatch');
    expect(awaiting.job).toMatchObject({ purpose: 'pickup', courierId: 'HL-BT01' });
  }
  // The task that answers the registration: one patch marker, no read of the reference data when they
  // came with the input, and the courier job's local write left to a later task.
  const firstTask = async (code: string) => {
    const facts = historyFacts(historyToJSON(await h.handle(code).fetchHistory()));
    return { patches: facts.patches(facts.firstTask), local: facts.localActivities(facts.firstTask), dispatchedLater: facts.localActivities().includes('dispatchCourier') };
  };
  expect(await firstTask(withContext.code)).toEqual({ patches: ['lean-registration-task'], local: ['projectDossier'], dispatchedLater: true });
  expect(await firstTask(without.code)).toEqual({ patches: ['lean-registration-task'], local: ['loadDossierContext', 'projectDossier'], dispatchedLater: true });
});

test('electronic submission, counter collection, cash at the counter', async () => {
  const sub = submission({
    procedureCode: '2.000720',
    agencyId: 'HL-UBND',
    services: { collect: false, deliver: true },
    pickupAddress: undefined,
    delivery: { method: 'counter' },
    payment: { method: 'cash' },
    submittedAt: at(h.monday, 0, '16:30'),
  });
  const registered = await h.submit(sub);
  // After 15:00: J is Tuesday; electronic handoff is due the end of J.
  expect(deadline(registered, 'handoff')).toMatchObject({ state: 'open', dueAt: endOf(h.monday, 1) });
  expect(registered.deadlines.map((d) => d.stage)).toEqual(['handoff']);
  expect(registered.fees).toMatchObject({ totalVnd: 100000, dueVnd: 100000 });
  await h.until(sub.code, (v) => v.status === 'in_transit_to_agency', 'electronic handoff');
  const handoffs = await h.db.collection('handoffs').find({ dossierCode: sub.code }).toArray();
  expect(handoffs).toEqual([expect.objectContaining({ channel: 'manual', mode: 'electronic' })]);

  await h.advanceTo(at(h.monday, 1, '08:30'));
  await h.event(sub.code, agency('HL-UBND'), { type: 'agency.received' });
  await h.advanceTo(at(h.monday, 2, '15:00'));
  await h.event(sub.code, agency('HL-UBND'), { type: 'agency.completed', outcome: 'approved' });
  // Counter collection: the return leg ends when the citizen is told the result is ready.
  const held = await h.until(sub.code, (v) => v.status === 'held_at_post_office', 'counter notice');
  expect(deadline(held, 'delivery')).toMatchObject({ state: 'met_on_time' });
  expect(held.invitations.sentAt).toHaveLength(1);

  const wrongCash = await h.refusal(sub.code, clerk, {
    type: 'counter.collected',
    recipient: { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' },
    collectedVnd: 50000,
  });
  expect(wrongCash).toMatchObject({ status: 422, type: 'cash-mismatch' });

  const collected = await h.event(sub.code, clerk, {
    type: 'counter.collected',
    recipient: { fullName: 'Trần Thị B', idNumber: '022080009999', relationship: 'proxy', authorizationRef: 'UQ-77' },
    collectedVnd: 100000,
  });
  expect(collected.status).toBe('collected');
  expect(collected.fees).toMatchObject({ paidVnd: 100000, dueVnd: 0 });
  expect(await h.ledger(sub.code)).toEqual([expect.objectContaining({ kind: 'cash', method: 'cash', amountVnd: 100000 })]);
});
