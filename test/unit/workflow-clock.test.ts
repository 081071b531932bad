import fc from 'fast-check';
import { WorkflowClock } from '../../workflows/clock';

describe('the dossier workflow clock', () => {
  it('is the workflow time until a timer has fired', () => {
    const clock = new WorkflowClock();
    expect(clock.now(1_000)).toBe(1_000);
  });

  it('never reads earlier than a fired timer, however stale the workflow time is', () => {
    const clock = new WorkflowClock();
    clock.timerFired(5_000);
    // A task handled with the time of the task before the timer (the SDK defect in clock.ts).
    expect(clock.now(1_000)).toBe(5_000);
    expect(clock.now(7_000)).toBe(7_000);
  });

  it('changes nothing when the workflow time is already past every fired due (replay)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e12 }), { minLength: 1 }), fc.integer({ min: 0, max: 1e6 }), (dues, after) => {
        const clock = new WorkflowClock();
        for (const due of dues) clock.timerFired(due);
        const wall = Math.max(...dues) + after;
        return clock.now(wall) === wall;
      }),
    );
  });
});
