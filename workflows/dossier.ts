/**
 * One workflow per dossier (`dossier-<code>`), alive from submission to a
 * terminal status. It owns time (one durable timer to the next alarm: a due,
 * an at-risk flag, a reminder, a re-dispatch, an invitation) and side effects
 * (activities, in dossier-effects.ts); every rule lives in the pure lifecycle module.
 *
 * Read top to bottom: the behaviour switches, the state, the message handlers,
 * the state helpers, then the main sequence and the two loops it runs.
 */
import { ApplicationFailure, allHandlersFinished, condition, log, setHandler, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { WorkingCalendar } from '../domain/calendar';
import { TERMINAL_STATUSES, type DossierState, type DossierView } from '../domain/dossier';
import type { EventCommand } from '../domain/events';
import { applySystem, decide, nextAlarmAt, register, tick, toView, type Context, type Effect } from '../domain/lifecycle';
import { WorkflowClock } from './clock';
import { EFFECT_LANES, laneOf, loadDossierContext, perform, projectView, readModelWrites, refreshCalendar, writesReadModel, type EffectLane } from './dossier-effects';
import {
  REFUSAL_FAILURE_TYPE,
  applyEventUpdate,
  calendarChangedSignal,
  dossierViewQuery,
  registeredUpdate,
  searchAttributes,
  type DossierWorkflowInput,
} from './messages';

export async function dossierWorkflow(input: DossierWorkflowInput): Promise<DossierView> {
  const { submission } = input;

  // ---------------------------------------------------------------- behaviour switches
  // Each decided once, at the start, so every dossier keeps one behaviour for its whole life
  // and the histories of dossiers started before a switch replay unchanged.

  // Since `lean-registration-task` (issue #10), one marker stands for all the switches before it: each
  // marker costs the first workflow task two history events (the marker, and an upsert of the
  // TemporalChangeVersion search attribute), and that task is what a submission waits for. Dossiers
  // started before it keep their own markers, checked one by one as before.
  const lean = patched('lean-registration-task');
  const since = (patchId: string) => lean || patched(patchId);

  // The lifecycle rules of 2 (docs/DECISIONS.md): dossiers started before keep rules 1 for life.
  const settings = since('lifecycle-rules-v2') ? { ...input.settings, rules: 2 as const } : input.settings;
  // The registration answer waits until the read model has the dossier, so a GET right after it finds it.
  const answerAfterProjection = since('registration-answers-after-projection');
  // The calendar reaches open dossiers through calendarChangedSignal; reloading it before every event was redundant.
  const calendarBySignalOnly = since('calendar-refreshed-by-signal-only');
  // Effects run in lanes, one per outside system: a payment gateway that is down no longer holds up
  // the courier. Projections are then serialised (see project()).
  const effectsInLanes = since('effects-run-in-lanes');
  // Fewer server writes (issue #13: activities queued seconds on a loaded server). Writes to our own
  // read model run as local activities, in this worker, without the task queue's round trip and its
  // three history events; and a search attribute is upserted only when its value changed. One patch
  // for both: each patch costs a marker and an upsert of its own.
  const fewerServerWrites = since('read-model-writes-local');
  const writes = readModelWrites(fewerServerWrites);
  const searchAttributesOnChange = fewerServerWrites;
  // The reference data by a local activity: with the registration update delivered with the start
  // (update-with-start), the dossier registers and answers in its first workflow task (issue #10).
  const contextLocal = since('dossier-context-local');
  // With `lean-registration-task` the registration task also ends with the answer: a first effect that
  // writes the read model (the pickup's courier job) waits for the next task (see runEffects), since a
  // local write would hold the task, and so the answer, until it is done.
  const answerBeforeFirstWrites = lean;

  // ---------------------------------------------------------------- state

  let state: DossierState | undefined;
  /** Now, never before a fired alarm's due (see clock.ts). */
  const clock = new WorkflowClock();
  let calendar: WorkingCalendar | undefined;
  let calendarChanged = false;
  /** Effects waiting to run, in the order the lifecycle asked for them. */
  const effects: Effect[] = [];
  let effectsInFlight = 0;
  let timersDone = false;
  let registrationProjected = false;
  let projecting = false;
  let projectedVersion = -1;
  /** The search attributes as last upserted, by name (with `read-model-writes-local`). */
  const upserted = new Map<string, unknown>();

  // ---------------------------------------------------------------- message handlers

  setHandler(dossierViewQuery, () => (state ? toView(state) : null));
  setHandler(calendarChangedSignal, () => {
    calendarChanged = true;
  });
  setHandler(registeredUpdate, async () => {
    await condition(() => (answerAfterProjection ? registrationProjected : state !== undefined));
    return toView(state!);
  });
  setHandler(
    applyEventUpdate,
    async (cmd: EventCommand) => {
      await condition(() => state !== undefined);
      // The due of a new deadline is computed on the calendar as it is now.
      if (!calendarBySignalOnly) calendar = await refreshCalendar(calendar!);
      const decision = decideOrRefuse(state!, cmd, ctx());
      if (!decision.ok) throw refused(decision.refusal);
      commit(decision.state, decision.effects);
      // The answer is the state the event produced; effects it started may move it on.
      const view = toView(decision.state);
      await project();
      return view;
    },
    {
      validator: (cmd: EventCommand) => {
        if (!state || !calendar) return; // not registered yet: the handler decides once it is
        const decision = decideOrRefuse(state, cmd, ctx());
        if (!decision.ok) throw refused(decision.refusal);
      },
    },
  );

  // ---------------------------------------------------------------- state helpers

  function ctx(): Context {
    return { now: clock.now(), calendar: calendar! };
  }

  function commit(next: DossierState, more: Effect[]): void {
    state = next;
    effects.push(...more);
    const updates = searchAttributeUpdates(next);
    if (!searchAttributesOnChange) {
      upsertSearchAttributes(updates);
      return;
    }
    const changed = updates.filter((u) => !upserted.has(u.key.name) || comparable(upserted.get(u.key.name)) !== comparable(u.value));
    if (changed.length === 0) return;
    for (const u of changed) upserted.set(u.key.name, u.value);
    upsertSearchAttributes(changed);
  }

  /** Returns once the read model has the state as it is now (or newer). */
  async function project(): Promise<void> {
    if (!effectsInLanes) {
      await projectView(toView(state!), writes);
      return;
    }
    // Lanes can commit concurrently, and FerretDB's version-guarded replace is not atomic:
    // one projection at a time, always of the latest state, so the read model never moves back.
    const wanted = state!.version;
    while (projectedVersion < wanted) {
      if (projecting) {
        await condition(() => !projecting);
        continue;
      }
      projecting = true;
      const view = toView(state!);
      try {
        await projectView(view, writes);
        projectedVersion = Math.max(projectedVersion, view.version);
      } finally {
        projecting = false;
      }
    }
  }

  function isTerminal(): boolean {
    return TERMINAL_STATUSES.has(state!.status);
  }

  function isDone(): boolean {
    // An effect in flight in one lane may still start effects in another.
    return isTerminal() && effects.length === 0 && effectsInFlight === 0 && timersDone;
  }

  // ---------------------------------------------------------------- main sequence

  // The reference data as the submitter read them (the API passes them), or read here.
  const refs = input.context ?? (await loadDossierContext(submission, contextLocal));
  calendar = new WorkingCalendar(refs.calendar);
  const registered = register({ submission, procedure: refs.procedure, agency: refs.agency, tariff: refs.tariff, settings }, ctx());
  commit(registered.state, registered.effects);
  await project();
  registrationProjected = true;
  /** The task that answers the registration (its history length), which no local write should hold. */
  const registrationTask = answerBeforeFirstWrites ? workflowInfo().historyLength : null;

  const effectLoops = effectsInLanes ? EFFECT_LANES.map((lane) => runEffects(lane)) : [runEffects(null)];
  await runTimers();
  timersDone = true;
  await Promise.all(effectLoops);
  await condition(allHandlersFinished);
  await project();
  return toView(state!);

  // ---------------------------------------------------------------- the loops

  // Effects run in order within their lane (all in one lane before `effects-run-in-lanes`), apart
  // from the timers: a slow agency webhook never delays a due.
  async function runEffects(lane: EffectLane | null): Promise<void> {
    const inLane = (e: Effect) => lane === null || laneOf(e) === lane;
    for (;;) {
      await condition(() => effects.some(inLane) || isDone());
      const at = effects.findIndex(inLane);
      if (at < 0) return;
      const [effect] = effects.splice(at, 1) as [Effect];
      effectsInFlight++;
      try {
        if (writesReadModel(effect) && workflowInfo().historyLength === registrationTask) {
          // The next task comes with the first queued effect's result (the receipt's notification is
          // always one), or with this timer when that result is slow.
          await condition(() => workflowInfo().historyLength !== registrationTask, '1 second');
        }
        const outcome = await perform(effect, state!, writes);
        if (outcome) {
          const applied = applySystem(state!, outcome, ctx());
          commit(applied.state, applied.effects);
          await project();
        }
      } catch (err) {
        // Only non-retryable failures reach here; the dossier goes on and managers see the log.
        log.error('effect failed', { effect: effect.kind, error: String(err) });
      } finally {
        effectsInFlight--;
      }
    }
  }

  async function runTimers(): Promise<void> {
    while (!isTerminal()) {
      const version = state!.version;
      const at = nextAlarmAt(state!, calendar!);
      const wake = () => calendarChanged || state!.version !== version || isTerminal();
      const now = clock.now();
      let timedOut = false;
      if (at === null) await condition(wake);
      else if (at > now) {
        timedOut = !(await condition(wake, at - now));
        if (timedOut) clock.timerFired(at);
      } else timedOut = true; // already due (an event reported late): fire at once
      if (!timedOut && !calendarChanged) continue; // an event changed the state: recompute the next alarm
      calendarChanged = false;
      calendar = await refreshCalendar(calendar!);
      const ticked = tick(state!, ctx());
      if (ticked.state !== state) {
        commit(ticked.state, ticked.effects);
        await project();
      }
    }
  }
}

/**
 * The reducer's decision, with anything it throws on a reported event (say, a
 * date beyond what the calendar can count) turned into a 422 refusal: the
 * client's event caused it, and a thrown error would otherwise fail the update
 * as an internal error, or the workflow task.
 */
function decideOrRefuse(state: DossierState, cmd: EventCommand, context: Context): ReturnType<typeof decide> {
  try {
    return decide(state, cmd, context);
  } catch (err) {
    const detail = `${cmd.event.type} cannot be applied: ${err instanceof Error ? err.message : String(err)}`;
    return { ok: false, refusal: { status: 422, type: 'event-not-applicable', title: 'Event not applicable', detail } };
  }
}

function refused(refusal: { status: number; type: string; detail: string }): ApplicationFailure {
  return ApplicationFailure.create({ message: refusal.detail, type: REFUSAL_FAILURE_TYPE, nonRetryable: true, details: [refusal] });
}

/** A search attribute's value as something `!==` compares (dates by their instant). */
function comparable(value: unknown): unknown {
  return value instanceof Date ? value.getTime() : value;
}

function searchAttributeUpdates(state: DossierState): SearchAttributeUpdatePair[] {
  const view = toView(state);
  return [
    { key: searchAttributes.status, value: state.status },
    { key: searchAttributes.agencyId, value: state.agencyId },
    { key: searchAttributes.procedureCode, value: state.procedureCode },
    { key: searchAttributes.nextDueAt, value: view.nextDueAt ? new Date(Date.parse(view.nextDueAt)) : null },
    { key: searchAttributes.overdue, value: state.deadlines.some((d) => d.state === 'overdue') },
  ];
}
