/**
 * Supplement requests (Decree 61 Art. 19.4 restart, or the Decision 766
 * pause rule) and the agency's one apology with a new appointment.
 */
import { addCalendarDays } from '../../domain/calendar';
import { searchAttributes } from '../../workflows/messages';
import { count, deadline, eventually, electronicSubmission, SELF, templates, toOutForDelivery, toProcessing } from '../support/steps';
import { at, endOf } from '../support/time';
import { agency, courier, portal } from '../support/workflow-harness';
import { useHarness } from '../support/use-harness';

const DOCS = { type: 'agency.supplement_requested' as const, reason: 'Thiếu bản sao CCCD', items: ['Bản sao CCCD của chủ hộ'] };

describe('supplement rule: restart (default)', () => {
  const h = useHarness({ label: 'suppl-restart' });

  test('the agency clock stops while waiting and restarts from zero when the supplement arrives', async () => {
    const sub = electronicSubmission(h.monday);
    const received = await toProcessing(h, sub, at(h.monday, 0, '10:00'));
    // Received Monday 10:00, 3 working days: Tue, Wed, Thu.
    expect(deadline(received, 'processing')).toMatchObject({ owner: 'agency', state: 'open', dueAt: endOf(h.monday, 3), startedAt: at(h.monday, 0, '10:00') });

    await h.advanceTo(at(h.monday, 1, '10:00'));
    const waiting = await h.event(sub.code, agency('HL-UBND'), DOCS);
    expect(waiting.status).toBe('awaiting_supplement');
    expect(waiting.supplementRequests.count).toBe(1);
    expect(waiting.supplementRequests.items[0]).toMatchObject({ items: DOCS.items, reason: DOCS.reason, withinWindow: true, providedAt: null });
    expect(waiting.multipleSupplementRequests).toBe(false);
    // A paused deadline is not "next due".
    expect(waiting.nextDueAt).toBeNull();
    expect((await h.handle(sub.code).describe()).typedSearchAttributes.get(searchAttributes.nextDueAt)).toBeUndefined();

    // The original due (end of Thursday) passes while the citizen gathers the documents: no breach.
    await h.advanceTo(at(h.monday, 4, '10:00'));
    const stillWaiting = await h.view(sub.code);
    expect(deadline(stillWaiting, 'processing')).toMatchObject({ state: 'open', dueAt: endOf(h.monday, 3) });
    expect(await templates(h, sub.code)).not.toContain('deadline.overdue');
    expect(await templates(h, sub.code, 'citizen')).toContain('supplement.requested');

    const resumed = await h.event(sub.code, portal, { type: 'citizen.supplement_provided', note: 'Đã bổ sung' }, { occurredAt: at(h.monday, 4, '10:00') });
    expect(resumed.status).toBe('processing');
    // Restart: 3 working days from Friday 10:00 → Mon, Tue, Wed of the next week.
    expect(deadline(resumed, 'processing')).toMatchObject({
      state: 'open',
      startedAt: at(h.monday, 4, '10:00'),
      dueAt: endOf(h.monday, 9),
      // Wed, Thu, Fri spent waiting (recorded for the Decision 766 index).
      supplementWorkingDays: 3,
      revisedDueAt: null,
    });
    expect(resumed.nextDueAt).toBe(endOf(h.monday, 9));
    const attributes = (await h.handle(sub.code).describe()).typedSearchAttributes;
    expect(attributes.get(searchAttributes.nextDueAt)?.toISOString()).toBe(new Date(Date.parse(endOf(h.monday, 9))).toISOString());
    expect(attributes.get(searchAttributes.status)).toBe('processing');
    expect(attributes.get(searchAttributes.overdue)).toBe(false);
    expect(resumed.supplementRequests.items[0]!.providedAt).toBe(at(h.monday, 4, '10:00'));
    await eventually(async () => expect(await templates(h, sub.code, 'agency')).toContain('supplement.provided'));

    // The read model follows.
    const doc = await h.readModel(sub.code);
    expect(doc!.version).toBeGreaterThanOrEqual(resumed.version);
    expect(doc!.view.deadlines.find((d) => d.stage === 'processing')).toMatchObject({ dueAt: endOf(h.monday, 9), state: 'open' });
    const dl = await h.db.collection('deadlines').findOne({ _id: `${sub.code}:processing` as never });
    expect(dl).toMatchObject({ state: 'open', supplementWorkingDays: 3, multipleSupplementRequests: false });

    await h.advanceTo(at(h.monday, 9, '16:00'));
    const done = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.completed', outcome: 'approved' }, { occurredAt: at(h.monday, 9, '16:00') });
    expect(deadline(done, 'processing')).toMatchObject({ state: 'met_on_time', completedAt: at(h.monday, 9, '16:00') });
    expect(await templates(h, sub.code)).not.toContain('deadline.overdue');
  });

  test('a second supplement request marks the dossier (Decision 766 counts it late)', async () => {
    const sub = electronicSubmission(h.monday);
    await toProcessing(h, sub, at(h.monday, 0, '10:00'));
    await h.advanceTo(at(h.monday, 1, '09:00'));
    await h.event(sub.code, agency('HL-UBND'), DOCS);
    await h.advanceTo(at(h.monday, 2, '09:00'));
    await h.event(sub.code, portal, { type: 'citizen.supplement_provided' }, { occurredAt: at(h.monday, 2, '09:00') });
    // Restarted from Wednesday: due end of the next Monday.
    expect(deadline(await h.view(sub.code), 'processing')).toMatchObject({ dueAt: endOf(h.monday, 7), supplementWorkingDays: 1 });

    await h.advanceTo(at(h.monday, 3, '11:00'));
    const second = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.supplement_requested', reason: 'Ảnh chưa đúng quy cách', items: ['Ảnh 3x4'] });
    expect(second.supplementRequests.count).toBe(2);
    expect(second.multipleSupplementRequests).toBe(true);
    await h.advanceTo(at(h.monday, 7, '10:00'));
    const resumed = await h.event(sub.code, portal, { type: 'citizen.supplement_provided' }, { occurredAt: at(h.monday, 7, '10:00') });
    // Thursday → next Monday: Fri, Mon = 2 more days waiting; restart from Monday: Tue, Wed, Thu.
    expect(deadline(resumed, 'processing')).toMatchObject({ startedAt: at(h.monday, 7, '10:00'), dueAt: endOf(h.monday, 10), supplementWorkingDays: 3 });
    expect(resumed.supplementRequests.items.map((r) => r.providedAt)).toEqual([at(h.monday, 2, '09:00'), at(h.monday, 7, '10:00')]);

    const doc = await h.readModel(sub.code);
    expect(doc!.view.multipleSupplementRequests).toBe(true);
    const dl = await h.db.collection('deadlines').findOne({ _id: `${sub.code}:processing` as never });
    expect(dl).toMatchObject({ multipleSupplementRequests: true, supplementWorkingDays: 3 });
  });

  test('a request later than 3 working days after receipt is accepted but recorded as outside the window', async () => {
    const sub = electronicSubmission(h.monday, { procedureCode: '1.009994', agencyId: 'HL-UBND' });
    await toProcessing(h, sub, at(h.monday, 0, '10:00'));
    // Received Monday: Tue, Wed, Thu are the window; Friday is the 4th working day.
    await h.advanceTo(at(h.monday, 4, '10:00'));
    const late = await h.event(sub.code, agency('HL-UBND'), DOCS);
    expect(late.supplementRequests.items[0]!.withinWindow).toBe(false);
  });
});

describe('supplement rule: pause (Decision 766 index)', () => {
  const h = useHarness({ supplementRule: 'pause', label: 'suppl-pause' });

  test('the due is extended by the working days spent waiting', async () => {
    const sub = electronicSubmission(h.monday);
    await toProcessing(h, sub, at(h.monday, 0, '10:00'));
    await h.advanceTo(at(h.monday, 1, '10:00'));
    await h.event(sub.code, agency('HL-UBND'), DOCS);
    await h.advanceTo(at(h.monday, 4, '10:00'));
    const resumed = await h.event(sub.code, portal, { type: 'citizen.supplement_provided' });
    // Due was end of Thursday; Wed, Thu, Fri were spent waiting → 3 more working days: Fri, Mon, Tue.
    expect(deadline(resumed, 'processing')).toMatchObject({
      state: 'open',
      startedAt: at(h.monday, 0, '10:00'),
      dueAt: endOf(h.monday, 8),
      supplementWorkingDays: 3,
    });

    // The extended due is kept: a breach fires at its end, not at the original one.
    await h.advanceTo(at(h.monday, 8, '23:00'));
    expect(deadline(await h.view(sub.code), 'processing').state).toBe('open');
    await h.advanceTo(at(h.monday, 9, '00:30'));
    const late = await h.until(sub.code, (v) => deadline(v, 'processing').state === 'overdue', 'processing overdue');
    expect(deadline(late, 'processing').dueAt).toBe(endOf(h.monday, 8));
  });

  test('two waits add up; the second request flags multiple supplement requests', async () => {
    const sub = electronicSubmission(h.monday);
    await toProcessing(h, sub, at(h.monday, 0, '10:00'));
    await h.advanceTo(at(h.monday, 1, '10:00'));
    await h.event(sub.code, agency('HL-UBND'), DOCS);
    await h.advanceTo(at(h.monday, 2, '10:00'));
    await h.event(sub.code, portal, { type: 'citizen.supplement_provided' });
    await h.advanceTo(at(h.monday, 2, '11:00'));
    const again = await h.event(sub.code, agency('HL-UBND'), { ...DOCS, items: ['Giấy tờ khác'] });
    expect(again.multipleSupplementRequests).toBe(true);
    await h.advanceTo(at(h.monday, 3, '10:00'));
    const resumed = await h.event(sub.code, portal, { type: 'citizen.supplement_provided' });
    // 1 (Tue→Wed) + 1 (Wed→Thu) days waited: end of Thursday + 2 → end of the next Monday.
    expect(deadline(resumed, 'processing')).toMatchObject({ supplementWorkingDays: 2, dueAt: endOf(h.monday, 7) });
  });
});

describe('apology and new appointment', () => {
  const h = useHarness({ label: 'apology' });

  test('once only; compliance is judged on the original due', async () => {
    const sub = electronicSubmission(h.monday);
    await toProcessing(h, sub, at(h.monday, 0, '10:00'));
    await h.advanceTo(at(h.monday, 1, '14:00'));
    const before = await h.view(sub.code);

    // Not after the due (end of Thursday): refused, nothing changes.
    const sameDay = await h.refusal(sub.code, agency('HL-UBND'), { type: 'agency.apologized', newDueDate: addCalendarDays(h.monday, 3), reason: 'Cần xác minh' });
    expect(sameDay).toMatchObject({ status: 422, type: 'apology-date-not-after-due' });
    expect(sameDay.errors).toEqual([expect.objectContaining({ path: 'newDueDate' })]);
    const earlier = await h.refusal(sub.code, agency('HL-UBND'), { type: 'agency.apologized', newDueDate: addCalendarDays(h.monday, 2), reason: 'Cần xác minh' });
    expect(earlier).toMatchObject({ status: 422, type: 'apology-date-not-after-due' });
    expect((await h.view(sub.code)).version).toBe(before.version);

    const apologized = await h.event(sub.code, agency('HL-UBND'), {
      type: 'agency.apologized',
      newDueDate: addCalendarDays(h.monday, 8),
      reason: 'Cần xác minh thực địa',
    }, { occurredAt: at(h.monday, 1, '14:00') });
    expect(apologized.status).toBe('processing');
    expect(apologized.apology).toEqual({
      newDueDate: addCalendarDays(h.monday, 8),
      revisedDueAt: endOf(h.monday, 8),
      reason: 'Cần xác minh thực địa',
      apologizedAt: at(h.monday, 1, '14:00'),
      timely: true,
    });
    expect(deadline(apologized, 'processing')).toMatchObject({ dueAt: endOf(h.monday, 3), revisedDueAt: endOf(h.monday, 8), state: 'open' });
    expect(apologized.nextDueAt).toBe(endOf(h.monday, 8));

    const again = await h.refusal(sub.code, agency('HL-UBND'), { type: 'agency.apologized', newDueDate: addCalendarDays(h.monday, 10), reason: 'Lần nữa' });
    expect(again).toMatchObject({ status: 409, type: 'apology-already-made' });

    // The original due passes: the record is overdue (the commitment was missed) but no daily reminder while the new date holds.
    await h.advanceTo(at(h.monday, 7, '12:00'));
    const overdue = await h.until(sub.code, (v) => deadline(v, 'processing').state === 'overdue', 'overdue');
    expect(deadline(overdue, 'processing')).toMatchObject({ dueAt: endOf(h.monday, 3), revisedDueAt: endOf(h.monday, 8) });
    const t = await templates(h, sub.code);
    expect(t).toContain('dossier.rescheduled');
    expect(count(t, 'deadline.overdue')).toBe(2);
    expect(t).not.toContain('deadline.reminder');

    // Completed after the original due, before the revised one: late, whatever the new appointment.
    const done = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.completed', outcome: 'approved' }, { occurredAt: at(h.monday, 7, '12:00') });
    expect(deadline(done, 'processing')).toMatchObject({
      state: 'met_late',
      completedAt: at(h.monday, 7, '12:00'),
      dueAt: endOf(h.monday, 3),
      revisedDueAt: endOf(h.monday, 8),
    });
    await h.until(sub.code, (v) => v.status === 'out_for_delivery');
    const dl = await h.db.collection('deadlines').findOne({ _id: `${sub.code}:processing` as never });
    expect(dl).toMatchObject({ state: 'met_late', revisedDueAt: new Date(Date.parse(endOf(h.monday, 8))) });
  });

  test('a new date on a weekend moves to the next working day; apology is allowed while awaiting a supplement', async () => {
    const sub = electronicSubmission(h.monday);
    await toProcessing(h, sub, at(h.monday, 0, '10:00'));
    await h.advanceTo(at(h.monday, 1, '10:00'));
    await h.event(sub.code, agency('HL-UBND'), DOCS);
    const saturday = addCalendarDays(h.monday, 5);
    const apologized = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.apologized', newDueDate: saturday, reason: 'Chờ bổ sung' });
    expect(apologized.status).toBe('awaiting_supplement');
    expect(apologized.apology).toMatchObject({ newDueDate: saturday, revisedDueAt: endOf(h.monday, 7) });
  });

  test('the full dossier with a supplement and an apology reaches the citizen (recorded history)', async () => {
    const sub = electronicSubmission(h.monday);
    await toProcessing(h, sub, at(h.monday, 0, '10:00'));
    await h.advanceTo(at(h.monday, 1, '10:00'));
    await h.event(sub.code, agency('HL-UBND'), DOCS);
    await h.advanceTo(at(h.monday, 2, '10:00'));
    await h.event(sub.code, portal, { type: 'citizen.supplement_provided' });
    // Restarted Wednesday: due end of the next Monday. Apologise on Thursday for the Wednesday after.
    await h.advanceTo(at(h.monday, 3, '10:00'));
    await h.event(sub.code, agency('HL-UBND'), { type: 'agency.apologized', newDueDate: addCalendarDays(h.monday, 9), reason: 'Cần xác minh' });
    await toOutForDelivery(h, sub, at(h.monday, 8, '10:00'));
    await h.advanceTo(at(h.monday, 8, '15:00'));
    const delivered = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF });
    expect(delivered.status).toBe('delivered');
    expect(delivered.deadlines.map((d) => [d.stage, d.state])).toEqual([
      ['handoff', 'met_on_time'],
      ['processing', 'met_late'],
      ['delivery', 'met_on_time'],
    ]);
    const final = await h.result(sub.code);
    expect(final.status).toBe('delivered');
    await h.recordHistory(sub.code, 'supplement-apology-delivered');
  });
});
