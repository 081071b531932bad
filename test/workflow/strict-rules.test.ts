/**
 * The lifecycle rules of 2 (issue 12) where timers are involved, through the
 * real workflow: a breach stays through a late supplement request, an apology
 * the restart overtakes is void and the timer follows the new due, a delivery
 * failure reported late spaces its invitations from the report, an overdue
 * dossier still shows its next due, and the workflow's own events bound
 * `occurredAt`. The harness calendar has weekends only.
 */
import { addCalendarDays } from '../../domain/calendar';
import { scanSummary } from '../../store/compliance';
import { searchAttributes } from '../../workflows/messages';
import { deadline, electronicSubmission, eventually, firedAt, SELF, toOutForDelivery, toProcessing } from '../support/steps';
import { at, endOf } from '../support/time';
import { agency, clerk, courier, portal } from '../support/workflow-harness';
import { useHarness } from '../support/use-harness';

const h = useHarness({ label: 'strict' });

const REQUEST = { type: 'agency.supplement_requested' as const, reason: 'Thiếu bản sao CCCD', items: ['CCCD'] };

async function attributes(code: string) {
  return (await h.handle(code).describe()).typedSearchAttributes;
}

test('a breach stays through a late supplement request: same due, still overdue and reminded, met late; the violation shows; nextDueAt shows the overdue due', async () => {
  const sub = electronicSubmission(h.monday);
  await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  // 3 working days: due end of Thursday.
  await h.advanceTo(at(h.monday, 4, '00:30'));
  const overdue = await h.until(sub.code, (v) => deadline(v, 'processing').state === 'overdue', 'overdue');
  // The citizen and the managers see what is due (and late), in the view and in Temporal's visibility.
  expect(overdue.nextDueAt).toBe(endOf(h.monday, 3));
  await eventually(async () => {
    const attrs = await attributes(sub.code);
    expect(attrs.get(searchAttributes.nextDueAt)?.toISOString()).toBe(new Date(Date.parse(endOf(h.monday, 3))).toISOString());
    expect(attrs.get(searchAttributes.overdue)).toBe(true);
  });

  // Next Monday: 5 working days after receipt, outside the 3-day window.
  await h.advanceTo(at(h.monday, 7, '09:00'));
  const asked = await h.event(sub.code, agency('HL-UBND'), REQUEST, { occurredAt: at(h.monday, 7, '09:00') });
  expect(asked.status).toBe('awaiting_supplement');
  expect(asked.agencyViolations).toEqual([{ rule: 'supplement_request_late', at: at(h.monday, 7, '09:00'), stage: 'processing', detail: expect.any(String) }]);
  expect(deadline(asked, 'processing')).toMatchObject({ state: 'overdue', dueAt: endOf(h.monday, 3) });

  await h.advanceTo(at(h.monday, 7, '11:00'));
  const provided = await h.event(sub.code, portal, { type: 'citizen.supplement_provided' }, { occurredAt: at(h.monday, 7, '11:00') });
  expect(deadline(provided, 'processing')).toMatchObject({ state: 'overdue', dueAt: endOf(h.monday, 3), startedAt: at(h.monday, 0, '10:00') });
  // The daily reminder goes on at 08:00.
  await h.advanceTo(at(h.monday, 8, '09:00'));
  await h.until(sub.code, (v) => v.timeline.some((t) => t.type === 'deadline.reminder' && t.occurredAt >= at(h.monday, 8, '08:00')), 'reminder');

  const done = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.completed', outcome: 'approved' }, { occurredAt: at(h.monday, 8, '09:00') });
  expect(deadline(done, 'processing')).toMatchObject({ state: 'met_late', dueAt: endOf(h.monday, 3) });

  // Compliance, by hand: this dossier's processing record is due on Thursday and late.
  const thursday = addCalendarDays(h.monday, 3);
  await eventually(async () => {
    const summary = await scanSummary(h.db, { from: thursday, to: thursday, stage: 'processing', groupBy: 'day' });
    expect(summary.rows).toEqual([expect.objectContaining({ key: thursday, total: 1, metOnTime: 0, metLate: 1, open: 0, overdue: 0, onTimeRate: 0 })]);
  });
  await h.recordHistory(sub.code, 'late-supplement-after-breach');
});

test('an apology the restart overtakes is void: the view, the search attribute and the timer follow the new due; a new apology is allowed', async () => {
  const sub = electronicSubmission(h.monday);
  await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  await h.advanceTo(at(h.monday, 1, '09:00'));
  // Appointment next Monday (end of it); then a request within the window.
  await h.event(sub.code, agency('HL-UBND'), { type: 'agency.apologized', newDueDate: addCalendarDays(h.monday, 7), reason: 'Cần xác minh' });
  await h.advanceTo(at(h.monday, 1, '10:00'));
  await h.event(sub.code, agency('HL-UBND'), REQUEST, { occurredAt: at(h.monday, 1, '10:00') });
  // Provided next Monday 10:00: the clock restarts, due end of Thursday (day 10), after the appointment.
  await h.advanceTo(at(h.monday, 7, '10:00'));
  const restarted = await h.event(sub.code, portal, { type: 'citizen.supplement_provided' }, { occurredAt: at(h.monday, 7, '10:00') });
  expect(deadline(restarted, 'processing')).toMatchObject({ state: 'open', dueAt: endOf(h.monday, 10), revisedDueAt: null });
  expect(restarted.apology).toMatchObject({ revisedDueAt: endOf(h.monday, 7), voidedAt: at(h.monday, 7, '10:00') });
  expect(restarted.nextDueAt).toBe(endOf(h.monday, 10));
  await eventually(async () =>
    expect((await attributes(sub.code)).get(searchAttributes.nextDueAt)?.toISOString()).toBe(new Date(Date.parse(endOf(h.monday, 10))).toISOString()),
  );

  // Nothing fires at the void appointment; the due fires.
  await h.advanceTo(at(h.monday, 8, '09:00'));
  expect(deadline(await h.view(sub.code), 'processing').state).toBe('open');
  await h.advanceTo(at(h.monday, 11, '00:30'));
  await h.until(sub.code, (v) => deadline(v, 'processing').state === 'overdue', 'overdue at the restarted due');
  const again = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.apologized', newDueDate: addCalendarDays(h.monday, 14), reason: 'Chờ ý kiến' });
  expect(deadline(again, 'processing')).toMatchObject({ revisedDueAt: endOf(h.monday, 14), dueAt: endOf(h.monday, 10) });
  expect(again.nextDueAt).toBe(endOf(h.monday, 14));
  await h.event(sub.code, agency('HL-UBND'), { type: 'agency.completed', outcome: 'rejected', reason: 'Không đủ điều kiện' });
  await h.recordHistory(sub.code, 'apology-voided-by-restart');
});

test('a delivery failure reported a week late: invitation at the report, the second two working days later, then the return', async () => {
  const sub = electronicSubmission(h.monday);
  await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  await toOutForDelivery(h, sub, at(h.monday, 1, '10:00'));
  // Failed Wednesday 10:00, reported the next Tuesday 10:00.
  await h.advanceTo(at(h.monday, 8, '10:00'));
  const held = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'failed', reason: 'not_home' }, { occurredAt: at(h.monday, 2, '10:00') });
  expect(held.attempts[0]).toMatchObject({ occurredAt: at(h.monday, 2, '10:00'), outcome: 'failed' });
  expect(held.invitations).toEqual({ sentAt: [firedAt(at(h.monday, 8, '10:00'))], nextAt: at(h.monday, 10, '08:00'), returnAt: endOf(h.monday, 14) });
  await h.advanceTo(at(h.monday, 9, '09:00'));
  expect((await h.view(sub.code)).invitations.sentAt).toHaveLength(1);
  await h.advanceTo(at(h.monday, 10, '09:00'));
  await h.until(sub.code, (v) => v.invitations.sentAt.length === 2, 'second invitation');
  await h.advanceTo(at(h.monday, 14, '23:00'));
  expect((await h.view(sub.code)).status).toBe('held_at_post_office');
  await h.advanceTo(at(h.monday, 15, '00:30'));
  await h.until(sub.code, (v) => v.status === 'returned_to_agency', 'returned');
  await h.result(sub.code);
  await h.recordHistory(sub.code, 'late-reported-delivery-failure');
});

test('a counter collection may not predate the counter notice the workflow sent', async () => {
  const sub = electronicSubmission(h.monday, { delivery: { method: 'counter' } });
  await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  // The agency reports at 15:00 a result released at 09:00; the notice goes out at 15:00.
  await h.advanceTo(at(h.monday, 1, '15:00'));
  await h.event(sub.code, agency('HL-UBND'), { type: 'agency.completed', outcome: 'approved' }, { occurredAt: at(h.monday, 1, '09:00') });
  await h.until(sub.code, (v) => v.status === 'held_at_post_office', 'counter notice');
  const refusal = await h.refusal(sub.code, clerk, { type: 'counter.collected', recipient: SELF }, { occurredAt: at(h.monday, 1, '10:00') });
  expect(refusal).toMatchObject({ status: 400, errors: [{ path: 'occurredAt' }] });
  await h.advanceTo(at(h.monday, 1, '16:00'));
  const collected = await h.event(sub.code, clerk, { type: 'counter.collected', recipient: SELF }, { occurredAt: at(h.monday, 1, '16:00') });
  expect(collected.status).toBe('collected');
});
