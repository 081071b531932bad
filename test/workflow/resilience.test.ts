/**
 * Nothing is lost across a worker going away: a new worker on the same task
 * queue replays the history and finishes the dossier; timers that fired while
 * no worker ran are handled when one is back; events are idempotent by id.
 */
import { submission } from '../support/fixtures';
import { count, deadline, electronicSubmission, eventually, pickUp, SELF, templates, toAwaitingPickup, toProcessing } from '../support/steps';
import { at, endOf } from '../support/time';
import { agency, courier } from '../support/workflow-harness';
import { useHarness } from '../support/use-harness';
import { WorkflowNotFoundError } from '@temporalio/client';
import { dossierViewQuery } from '../../workflows/messages';

const h = useHarness({ label: 'resilience', stickyCache: false });

test('the worker goes away mid-dossier; a new one on the same task queue finishes it, charging once', async () => {
  const sub = submission({ procedureCode: '2.000720', agencyId: 'HL-UBND', submittedAt: at(h.monday, 0, '09:15') });
  await toAwaitingPickup(h, sub);
  await pickUp(h, sub, at(h.monday, 0, '14:00'));
  await h.until(sub.code, (v) => v.timeline.some((t) => t.type === 'system.handed_off'), 'paper handoff recorded');
  await h.advanceTo(at(h.monday, 1, '10:00'));

  // The worker goes away. (The time-skipping server does not move its clock while a
  // workflow task waits for a worker, so time is advanced only while one runs.)
  await h.stopWorker();
  // The agency reports receipt meanwhile: the update waits for a worker.
  let answered = false;
  const pending = h.event(sub.code, agency('HL-UBND'), { type: 'agency.received' }, { occurredAt: at(h.monday, 1, '10:00') }).finally(() => {
    answered = true;
  });
  await new Promise((r) => setTimeout(r, 1000));
  expect(answered).toBe(false);
  await h.startWorker();
  const received = await pending;
  expect(received.status).toBe('processing');
  // Received Tuesday: due end of Friday, at risk from the end of Thursday.
  expect(deadline(received, 'processing')).toMatchObject({ state: 'open', dueAt: endOf(h.monday, 4) });

  // The new worker (no cached state: it replays the whole history) keeps the timers.
  await h.advanceTo(at(h.monday, 4, '00:30'));
  const risky = await h.until(sub.code, (v) => deadline(v, 'processing').atRisk, 'at risk after the restart');
  expect(deadline(risky, 'processing')).toMatchObject({ state: 'open', dueAt: endOf(h.monday, 4) });

  await h.restartWorker();
  await h.advanceTo(at(h.monday, 4, '10:00'));
  await h.event(sub.code, agency('HL-UBND'), { type: 'agency.completed', outcome: 'approved' });
  // Killed again while the delivery dispatch may be under way.
  await h.restartWorker();
  await h.until(sub.code, (v) => v.status === 'out_for_delivery' && v.job !== null, 'delivery dispatch after the restart');
  await h.advanceTo(at(h.monday, 4, '15:00'));
  const delivered = await h.event(sub.code, courier('HL-BT01'), { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF });
  expect(delivered.status).toBe('delivered');
  const final = await h.result(sub.code);
  expect(final.deadlines.map((d) => [d.stage, d.state])).toEqual([
    ['pickup', 'met_on_time'],
    ['handoff', 'met_on_time'],
    ['processing', 'met_on_time'],
    ['delivery', 'met_on_time'],
  ]);
  expect(final.fees).toMatchObject({ totalVnd: 142000, paidVnd: 142000, dueVnd: 0 });
  expect(h.gateway.captures.filter((c) => c.idempotencyKey === `${sub.code}:capture`)).toHaveLength(1);
  expect(await h.ledger(sub.code)).toHaveLength(1);
  expect((await h.jobs(sub.code)).map((j) => [j.purpose, j.status])).toEqual([
    ['pickup', 'done'],
    ['delivery', 'done'],
  ]);
  const t = await templates(h, sub.code);
  expect(count(t, 'deadline.at_risk')).toBe(2);
  expect(count(t, 'dossier.submitted')).toBe(1);
  expect(await h.readModel(sub.code)).toMatchObject({ status: 'delivered', version: final.version });
});

test('an event sent twice with the same eventId is applied once and answered the same', async () => {
  const sub = electronicSubmission(h.monday);
  await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  await h.advanceTo(at(h.monday, 1, '10:00'));
  const first = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.supplement_requested', reason: 'Thiếu giấy tờ', items: ['CCCD'] }, { eventId: `${sub.code}-ev-1` });
  const again = await h.event(sub.code, agency('HL-UBND'), { type: 'agency.supplement_requested', reason: 'Thiếu giấy tờ', items: ['CCCD'] }, { eventId: `${sub.code}-ev-1` });
  expect(again).toEqual(first);
  expect(first.timeline.at(-1)).toMatchObject({ type: 'agency.supplement_requested', eventId: `${sub.code}-ev-1` });
  const v = await h.view(sub.code);
  expect(v.supplementRequests.count).toBe(1);
  expect(v.version).toBe(first.version);
  await eventually(async () => expect(count(await templates(h, sub.code, 'citizen'), 'supplement.requested')).toBe(1));
});

test('a worker without a cache answers every query, even those asked while it runs the dossier\'s first tasks', async () => {
  // A query taken beside a running task waited for sdk-core's one cached run and was dropped when that run
  // was evicted: about one a submission, and its caller (the harness's `until`) then waited for ever.
  const unanswered: string[] = [];
  for (let i = 0; i < 2; i++) {
    const sub = submission({ procedureCode: '2.000720', agencyId: 'HL-UBND', submittedAt: at(h.monday, 0, '09:15') });
    let registered = false;
    const submitted = h.submit(sub).finally(() => {
      registered = true;
    });
    // Raw queries, not h.view: DossierClient.view asks a dropped query again, which would hide the drop.
    const askers = [0, 1, 2].map(async () => {
      const until = Date.now() + 3000;
      while (!registered || Date.now() < until) {
        try {
          await h.env.client.withDeadline(Date.now() + 5000, () => h.handle(sub.code).query(dossierViewQuery));
        } catch (err) {
          // Before the start, the workflow is not there yet; anything else is a query left unanswered.
          if (!(err instanceof WorkflowNotFoundError)) unanswered.push(`${sub.code}: ${String(err)}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    await submitted;
    await Promise.all(askers);
  }
  expect(unanswered).toEqual([]);
});
