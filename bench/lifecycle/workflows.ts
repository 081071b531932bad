/**
 * The workflow bundle of `npm run bench:lifecycle` (not the production one):
 * the dossier workflows as shipped, plus the bench's own two workflows.
 *
 * `baselineLifecycle` has the shape of a collect-and-deliver dossier's life
 * (test/histories/v4-happy-path-collect-deliver.json): 5 updates (the
 * registration answer and 4 events), 21 activities in the same places (before
 * each answer, then parallel effects, some followed by a projection and a
 * state change), and a durable timer restarted at each state change (8, all
 * cancelled, as the dossier's alarms are days away). It has none of the
 * dossier's rules, search attributes or payloads: what is left is what
 * Temporal and the read model cost for that shape.
 *
 * `platformLifecycle` is the platform's floor for that journey: the same 5
 * updates (a registration answer and 4 steps) and nothing else, no activity,
 * timer or search attribute. What one embedded stack sustains with it bounds
 * what any workflow of this shape can sustain there.
 *
 * `timerProbe` measures timer lag: it sleeps `periodMs` again and again and
 * records how late it resumed each time (the workflow's clock is the start
 * of the task that resumed it), so the lag includes the server firing the
 * timer and the worker taking the task.
 */
import { ApplicationFailure, allHandlersFinished, condition, defineQuery, defineUpdate, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { BaselineActivities } from './activities';

export * from '../../workflows';

/** One phase: activities before the answer, then parallel effects (2 = an outside call then a projection, with a state change between). */
export interface BaselinePhase {
  before: number;
  effects: number[];
}

/** The happy collect-and-deliver dossier's activities: 7 + 5 + 2 + 3 + 4 = 21. */
export const HAPPY_PATH_SHAPE: BaselinePhase[] = [
  { before: 2, effects: [2, 2, 1] }, // context, projection; capture→projection, dispatch→projection, notify
  { before: 1, effects: [2, 1, 1] }, // picked up: projection; hand-off→projection, notify, close job
  { before: 1, effects: [1] }, // received: projection; notify
  { before: 1, effects: [2] }, // completed: projection; dispatch→projection
  { before: 1, effects: [2, 1] }, // delivered: projection; notify→notify, close job
];

export const baselineRegisteredUpdate = defineUpdate<number>('registered');
export const baselineStepUpdate = defineUpdate<number, [number]>('step');
export const baselineProgressQuery = defineQuery<{ phase: number; settled: boolean }>('progress');

export async function baselineLifecycle(phases: BaselinePhase[]): Promise<number> {
  const act = proxyActivities<BaselineActivities>({
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  const key = workflowInfo().workflowId;
  let version = 0;
  let phase = -1;
  let registered = false;
  /** The last phase whose answer activities are done and effects started. */
  let entered = -1;
  let inFlight = 0;
  let writes = 0;
  const touch = () => act.touch({ key, seq: ++writes });
  const last = phases.length - 1;

  async function effect(length: number): Promise<void> {
    await touch();
    if (length > 1) {
      version++; // the outcome changes the state, then it is projected
      for (let i = 1; i < length; i++) await touch();
    }
  }
  function startEffects(p: number): void {
    for (const length of phases[p]!.effects) {
      inFlight++;
      void effect(length).finally(() => inFlight--);
    }
  }
  async function enter(p: number): Promise<void> {
    phase = p;
    version++;
    for (let i = 0; i < phases[p]!.before; i++) await touch();
    startEffects(p);
    entered = p;
  }

  setHandler(baselineProgressQuery, () => ({ phase, settled: entered === phase && inFlight === 0 }));
  setHandler(baselineRegisteredUpdate, async () => {
    await condition(() => registered);
    return phase;
  });
  setHandler(
    baselineStepUpdate,
    async (step: number) => {
      await enter(step);
      return phase;
    },
    {
      validator: (step: number) => {
        if (!registered || step !== phase + 1 || step > last) throw ApplicationFailure.nonRetryable(`step ${step} does not follow ${phase}`);
      },
    },
  );

  await enter(0);
  registered = true;
  // As the dossier's alarm loop: one timer to the next alarm, restarted when the state changes.
  while (phase < last) {
    const seen = version;
    await condition(() => version !== seen || phase === last, '1 day');
  }
  await condition(() => entered === last && inFlight === 0 && allHandlersFinished());
  return writes;
}

export const platformStepUpdate = defineUpdate<number, [number]>('platformStep');

export async function platformLifecycle(steps: number): Promise<number> {
  let done = 0;
  setHandler(baselineRegisteredUpdate, () => done);
  setHandler(
    platformStepUpdate,
    (step: number) => (done = step),
    {
      validator: (step: number) => {
        if (step !== done + 1 || step > steps) throw ApplicationFailure.nonRetryable(`step ${step} does not follow ${done}`);
      },
    },
  );
  await condition(() => done === steps && allHandlersFinished());
  return done;
}

export async function timerProbe(input: { periodMs: number; until: number }): Promise<number[]> {
  const lags: number[] = [];
  while (Date.now() + input.periodMs < input.until) {
    const due = Date.now() + input.periodMs;
    await sleep(input.periodMs);
    lags.push(Date.now() - due);
  }
  return lags;
}
