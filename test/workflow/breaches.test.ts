/**
 * Deadlines that pass: durable timers turn records overdue, notify the owner
 * and the managers, flag processing at risk one working day before, and
 * remind the agency every working day until it completes or apologises.
 * Events reported late are judged by when they happened.
 */
import { addCalendarDays } from '../../domain/calendar';
import { searchAttributes } from '../../workflows/messages';
import { submission } from '../support/fixtures';
import { deadline, electronicSubmission, eventually, SELF, templates, toAwaitingPickup, toOutForDelivery, toProcessing } from '../support/steps';
import { at, endOf } from '../support/time';
import { agency, courier } from '../support/workflow-harness';
import { useHarness } from '../support/use-harness';

const h = useHarness({ label: 'breaches' });

async function reminders(code: string) {
  return (await h.outbox(code)).filter((m) => m.template === 'deadline.reminder');
}

test('processing breach: at risk a working day before, overdue at the due, a reminder each working day until an apology', async () => {
  const sub = electronicSubmission(h.monday);
  await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  // Due: end of Thursday. At risk from the end of Wednesday.

  await h.advanceTo(at(h.monday, 2, '23:30'));
  expect(deadline(await h.view(sub.code), 'processing')).toMatchObject({ state: 'open', atRisk: false });
  expect(await templates(h, sub.code)).not.toContain('deadline.at_risk');

  await h.advanceTo(at(h.monday, 3, '00:30'));
  const risky = await h.until(sub.code, (v) => deadline(v, 'processing').atRisk, 'at-risk flag');
  expect(deadline(risky, 'processing')).toMatchObject({ state: 'open', dueAt: endOf(h.monday, 3) });
  expect(risky.timeline.map((t) => t.type)).toContain('deadline.at_risk');
  await eventually(async () => {
    const atRisk = (await h.outbox(sub.code)).filter((m) => m.template === 'deadline.at_risk');
    expect(atRisk.map((m) => m.audience).sort()).toEqual(['agency', 'manager']);
    expect(atRisk[0]!.data).toEqual({ stage: 'processing', dueAt: endOf(h.monday, 3) });
  });
  await eventually(async () =>
    expect(await h.db.collection('deadlines').findOne({ _id: `${sub.code}:processing` as never })).toMatchObject({ atRisk: true, state: 'open' }),
  );

  await h.advanceTo(at(h.monday, 4, '00:30'));
  const overdue = await h.until(sub.code, (v) => deadline(v, 'processing').state === 'overdue', 'overdue');
  expect(deadline(overdue, 'processing')).toMatchObject({ atRisk: false, dueAt: endOf(h.monday, 3), completedAt: null });
  expect(overdue.timeline.filter((t) => t.type === 'deadline.overdue')).toHaveLength(1);
  await eventually(async () => {
    const notices = (await h.outbox(sub.code)).filter((m) => m.template === 'deadline.overdue');
    expect(notices.map((m) => m.audience).sort()).toEqual(['agency', 'manager']);
    expect(notices[0]!.data).toEqual({ stage: 'processing', dueAt: endOf(h.monday, 3) });
  });
  await eventually(async () =>
    expect(await h.db.collection('deadlines').findOne({ _id: `${sub.code}:processing` as never })).toMatchObject({ state: 'overdue' }),
  );
  // Operators find breached dossiers in Temporal's visibility by these attributes.
  const described = await h.handle(sub.code).describe();
  expect(described.typedSearchAttributes.get(searchAttributes.overdue)).toBe(true);
  expect(described.typedSearchAttributes.get(searchAttributes.status)).toBe('processing');
  expect(described.typedSearchAttributes.get(searchAttributes.agencyId)).toBe('HL-UBND');

  // Reminders go out at 08:00 on each following working day: Monday, Tuesday, Wednesday (none at the weekend).
  await h.advanceTo(at(h.monday, 7, '07:59'));
  expect(await reminders(sub.code)).toHaveLength(0);
  await h.advanceTo(at(h.monday, 9, '09:00'));
  await eventually(async () => expect(await reminders(sub.code)).toHaveLength(3));
  const sent = await reminders(sub.code);
  expect(sent.every((m) => m.audience === 'agency')).toBe(true);
  expect(sent.map((m) => m._id).sort()).toEqual(
    [7, 8, 9].map((d) => `${sub.code}:deadline.reminder:agency:${at(h.monday, d, '08:00')}`).sort(),
  );
  expect((await h.view(sub.code)).timeline.filter((t) => t.type === 'deadline.reminder')).toHaveLength(3);

  // A late apology stops the reminders while the new date holds.
  await h.advanceTo(at(h.monday, 9, '10:00'));
  const apologized = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.apologized', newDueDate: addCalendarDays(h.monday, 11), reason: 'Quá tải' });
  expect(apologized.apology).toMatchObject({ timely: false, revisedDueAt: endOf(h.monday, 11) });
  expect(deadline(apologized, 'processing')).toMatchObject({ state: 'overdue', revisedDueAt: endOf(h.monday, 11) });
  await h.advanceTo(at(h.monday, 11, '12:00'));
  expect(await reminders(sub.code)).toHaveLength(3);

  // The new date passes too: managers are told, and the daily reminders resume (next working morning: Monday).
  await h.advanceTo(at(h.monday, 12, '01:00'));
  await h.until(sub.code, (v) => v.timeline.some((t) => t.type === 'deadline.revised_due_passed'), 'revised due passed');
  await eventually(async () => {
    const passed = (await h.outbox(sub.code)).filter((m) => m.template === 'deadline.revised_due_passed');
    expect(passed.map((m) => m.audience).sort()).toEqual(['agency', 'manager']);
  });
  await h.advanceTo(at(h.monday, 14, '09:00'));
  await eventually(async () => expect(await reminders(sub.code)).toHaveLength(4));

  // Completion ends it all: met late, no more reminders.
  const completedAt = at(h.monday, 14, '10:00');
  await toOutForDelivery(h, sub, completedAt);
  const done = await h.view(sub.code);
  expect(deadline(done, 'processing')).toMatchObject({ state: 'met_late', completedAt, dueAt: endOf(h.monday, 3), revisedDueAt: endOf(h.monday, 11) });
  await h.advanceTo(at(h.monday, 14, '14:00'));
  await h.event(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF });
  await h.result(sub.code);
  expect(await reminders(sub.code)).toHaveLength(4);
  await h.recordHistory(sub.code, 'processing-breach-reminders');
});

test('a completion before the at-risk time raises nothing', async () => {
  const sub = electronicSubmission(h.monday);
  await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  await toOutForDelivery(h, sub, at(h.monday, 1, '10:00'));
  await h.advanceTo(at(h.monday, 6, '10:00'));
  const v = await h.view(sub.code);
  expect(deadline(v, 'processing')).toMatchObject({ state: 'met_on_time', atRisk: false });
  // The delivery deadline (J+1 from Tuesday) did pass with the courier still out: post's breach.
  expect(deadline(v, 'delivery')).toMatchObject({ state: 'overdue', dueAt: endOf(h.monday, 2) });
  const t = await templates(h, sub.code);
  expect(t).not.toContain('deadline.at_risk');
  expect(t).not.toContain('deadline.reminder');
  expect((await h.outbox(sub.code)).filter((m) => m.template === 'deadline.overdue').map((m) => m.data.stage)).toEqual(['delivery']);
});

test('a pickup reported late is judged by when it happened; a handoff due already past is breached at once', async () => {
  // Land-use registration, collected and delivered in Hạ Long: pickup due end of Tuesday.
  const sub = submission({ submittedAt: at(h.monday, 0, '09:15') });
  const awaiting = await toAwaitingPickup(h, sub);
  expect(deadline(awaiting, 'pickup')).toMatchObject({ state: 'open', dueAt: endOf(h.monday, 1) });

  // Nobody reports anything: the pickup due passes on the timer.
  await h.advanceTo(at(h.monday, 2, '08:00'));
  await h.until(sub.code, (v) => deadline(v, 'pickup').state === 'overdue', 'pickup overdue');
  await eventually(async () => {
    const notices = (await h.outbox(sub.code)).filter((m) => m.template === 'deadline.overdue');
    // The post owns the pickup: its managers are told (one message, owner and manager audiences coincide).
    expect(notices.map((m) => [m.audience, m.data.stage])).toEqual([['manager', 'pickup']]);
  });

  // The courier picked up on Wednesday at 10:00 but, offline, reports it on Friday.
  await h.advanceTo(at(h.monday, 4, '10:00'));
  const tooEarly = await h.refusal(sub.code, courier('HL-BT01'), { type: 'courier.picked_up' }, { occurredAt: at(h.monday, 0, '09:00') });
  expect(tooEarly).toMatchObject({ status: 400, errors: [expect.objectContaining({ path: 'occurredAt' })] });
  const future = await h.refusal(sub.code, courier('HL-BT01'), { type: 'courier.picked_up' }, { occurredAt: at(h.monday, 4, '10:10') });
  expect(future).toMatchObject({ status: 400, errors: [expect.objectContaining({ path: 'occurredAt' })] });

  const reported = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.picked_up' }, { occurredAt: at(h.monday, 2, '10:00') });
  expect(reported.status).toBe('in_transit_to_agency');
  expect(deadline(reported, 'pickup')).toMatchObject({ state: 'met_late', completedAt: at(h.monday, 2, '10:00'), dueAt: endOf(h.monday, 1) });
  // Same district J+1 from Wednesday: end of Thursday, already past when reported on Friday.
  expect(deadline(reported, 'handoff')).toMatchObject({ startedAt: at(h.monday, 2, '10:00'), dueAt: endOf(h.monday, 3) });
  const breached = await h.until(sub.code, (v) => deadline(v, 'handoff').state === 'overdue', 'handoff overdue at once');
  expect((await h.now()) < at(h.monday, 4, '10:01')).toBe(true);
  expect(breached.timeline.find((t) => t.type === 'deadline.overdue' && t.note === 'handoff')).toBeDefined();
  await eventually(async () => {
    const notices = (await h.outbox(sub.code)).filter((m) => m.template === 'deadline.overdue');
    expect(notices.map((m) => m.data.stage).sort()).toEqual(['handoff', 'pickup']);
  });

  // The agency signs on Friday: the handoff is met late; processing starts from Friday.
  await h.advanceTo(at(h.monday, 4, '10:30'));
  const received = await h.event(sub.code, agency('HL-TNMT'), { type: 'agency.received' }, { occurredAt: at(h.monday, 4, '10:30') });
  expect(deadline(received, 'handoff')).toMatchObject({ state: 'met_late', completedAt: at(h.monday, 4, '10:30') });
  expect(deadline(received, 'processing')).toMatchObject({ state: 'open', dueAt: endOf(h.monday, 18) });
});

test('receipt reported after the processing due has passed: overdue at once, reminders from the next working morning', async () => {
  // Birth-record copy (1 working day). Received Monday 10:00 but the desk only records it on Wednesday afternoon.
  const sub = electronicSubmission(h.monday, { procedureCode: '2.000635' });
  await h.submit(sub);
  await h.until(sub.code, (v) => v.status === 'in_transit_to_agency');
  await h.advanceTo(at(h.monday, 2, '16:00'));
  const received = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.received' }, { occurredAt: at(h.monday, 0, '10:00') });
  expect(deadline(received, 'processing')).toMatchObject({ dueAt: endOf(h.monday, 1), state: 'open' });
  await h.until(sub.code, (v) => deadline(v, 'processing').state === 'overdue', 'processing overdue');
  await h.advanceTo(at(h.monday, 3, '08:30'));
  await eventually(async () => expect(await reminders(sub.code)).toHaveLength(1));
  expect((await reminders(sub.code))[0]!._id).toBe(`${sub.code}:deadline.reminder:agency:${at(h.monday, 3, '08:00')}`);
});
