/**
 * The dossier workflow's "now": the SDK's replay-safe `Date.now()`, but never
 * earlier than the due of a durable timer the workflow has seen fire.
 *
 * Why: with the TypeScript SDK 1.24 (its core), a workflow loaded into a
 * worker's cache by a query while its history ends in events after its last
 * started workflow task (a timer fired or an activity completed, the next task
 * not started yet, e.g. waiting out the sticky queue of a killed worker)
 * applies those events with the previous task's time, and keeps that state
 * when the task comes (docs/DECISIONS.md, "A fired alarm never reads a clock
 * from before its due"). A deadline alarm would then tick with a clock from
 * before its due and wait for another alarm to record the breach.
 *
 * On replay, and in any execution the defect did not touch, the task that
 * handles a timer started after the timer fired, so `Date.now()` is already
 * past the due and the floor changes no command: no `patched()` is needed.
 */
export class WorkflowClock {
  private passed = Number.NEGATIVE_INFINITY;

  /** A timer set to fire at `at` fired: `at` has passed, whatever `Date.now()` says. */
  timerFired(at: number): void {
    this.passed = Math.max(this.passed, at);
  }

  now(wall: number = Date.now()): number {
    return Math.max(wall, this.passed);
  }
}
