/**
 * The working calendar is data: a holiday declared while a deadline is open
 * moves it, whether the workflow is told (signal) or finds out when its next
 * timer fires.
 */
import { addCalendarDays, dayOfWeek } from '../../domain/calendar';
import { ReferenceData } from '../../store/reference-data';
import { deadline, electronicSubmission, eventually, toProcessing } from '../support/steps';
import { at, endOf } from '../support/time';
import { useHarness } from '../support/use-harness';

const h = useHarness({ label: 'calendar' });

/** Declares `day` a public holiday, the rest of its year staying weekends-only (as the harness set it). */
async function declareHoliday(day: string): Promise<() => Promise<void>> {
  expect(dayOfWeek(day)).not.toBe(0);
  expect(dayOfWeek(day)).not.toBe(6);
  const refs = new ReferenceData(h.db);
  const year = Number(day.slice(0, 4));
  await refs.putCalendar({ year, holidays: [day], workingDays: [] });
  return () => refs.putCalendar({ year, holidays: [], workingDays: [] });
}

test('a holiday declared inside the span moves the open processing due one working day later (signal)', async () => {
  const sub = electronicSubmission(h.monday);
  const received = await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  expect(deadline(received, 'processing').dueAt).toBe(endOf(h.monday, 3));

  await h.advanceTo(at(h.monday, 1, '12:00'));
  const restore = await declareHoliday(addCalendarDays(h.monday, 2));
  try {
    await h.dossiers.calendarChanged(sub.code);
    const moved = await h.until(sub.code, (v) => deadline(v, 'processing').dueAt !== endOf(h.monday, 3), 'rescheduled due');
    // Tue, (Wed off), Thu, Fri: end of Friday.
    expect(deadline(moved, 'processing')).toMatchObject({ state: 'open', dueAt: endOf(h.monday, 4), startedAt: at(h.monday, 0, '10:00') });
    expect(moved.nextDueAt).toBe(endOf(h.monday, 4));
    const entry = moved.timeline.find((t) => t.type === 'deadline.rescheduled');
    expect(entry).toMatchObject({ by: { role: 'system', id: 'workflow' } });
    expect(entry!.note).toContain('processing');
    expect(entry!.note).toContain(endOf(h.monday, 4));
    await eventually(async () =>
      expect(await h.db.collection('deadlines').findOne({ _id: `${sub.code}:processing` as never })).toMatchObject({
        dueAt: new Date(Date.parse(endOf(h.monday, 4))),
      }),
    );

    // The breach follows the new due: nothing at the old one.
    await h.advanceTo(at(h.monday, 4, '12:00'));
    expect(deadline(await h.view(sub.code), 'processing').state).toBe('open');
    await h.advanceTo(at(h.monday, 5, '00:30'));
    await h.until(sub.code, (v) => deadline(v, 'processing').state === 'overdue', 'overdue at the new due');
  } finally {
    await restore();
  }
});

test('without a signal, the next timer re-checks the calendar: the at-risk flag follows the moved due', async () => {
  const sub = electronicSubmission(h.monday);
  await toProcessing(h, sub, at(h.monday, 0, '10:00'));
  const restore = await declareHoliday(addCalendarDays(h.monday, 2));
  try {
    // The at-risk timer was set for the end of Wednesday (due end of Thursday); it fires and finds the new calendar.
    await h.advanceTo(at(h.monday, 3, '00:30'));
    const moved = await h.until(sub.code, (v) => v.timeline.some((t) => t.type === 'deadline.rescheduled'), 'rescheduled on timer');
    expect(deadline(moved, 'processing')).toMatchObject({ dueAt: endOf(h.monday, 4), atRisk: false, state: 'open' });
    expect(moved.timeline.map((t) => t.type)).not.toContain('deadline.at_risk');

    await h.advanceTo(at(h.monday, 4, '00:30'));
    const risky = await h.until(sub.code, (v) => deadline(v, 'processing').atRisk, 'at risk a working day before the moved due');
    expect(deadline(risky, 'processing').dueAt).toBe(endOf(h.monday, 4));
    await eventually(async () => {
      const notices = (await h.outbox(sub.code)).filter((m) => m.template === 'deadline.at_risk');
      expect(notices.map((m) => m.data.dueAt)).toEqual([endOf(h.monday, 4), endOf(h.monday, 4)]);
    });
  } finally {
    await restore();
  }
});
