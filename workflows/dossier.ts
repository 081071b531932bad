/**
 * One workflow per dossier (`dossier-<code>`), alive from submission to a
 * terminal status. It owns time (one durable timer to the next alarm: a due,
 * an at-risk flag, a reminder, a re-dispatch, an invitation) and side effects
 * (activities); every rule lives in the pure lifecycle module.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  setHandler,
  patched,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities';
import { WorkingCalendar } from '../domain/calendar';
import { TERMINAL_STATUSES, type DossierState, type DossierView } from '../domain/dossier';
import type { EventCommand } from '../domain/events';
import {
  applySystem,
  decide,
  nextAlarmAt,
  register,
  tick,
  toView,
  type Context,
  type Effect,
  type SystemEvent,
} from '../domain/lifecycle';
import {
  REFUSAL_FAILURE_TYPE,
  applyEventUpdate,
  calendarChangedSignal,
  dossierViewQuery,
  registeredUpdate,
  searchAttributes,
  type DossierWorkflowInput,
} from './messages';

const reference = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['ReferenceDataMissing'] },
});

// Agencies' systems and the payment gateway can be down for hours: retry without limit, backing off.
const external = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

const local = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function dossierWorkflow(input: DossierWorkflowInput): Promise<DossierView> {
  const { submission } = input;
  // The lifecycle rules of 2 (docs/DECISIONS.md): dossiers started before keep rules 1 for life,
  // so their histories replay unchanged.
  const settings = patched('lifecycle-rules-v2') ? { ...input.settings, rules: 2 as const } : input.settings;
  let state: DossierState | undefined;
  let calendar: WorkingCalendar | undefined;
  let calendarChanged = false;
  const effects: Effect[] = [];

  const ctx = (): Context => ({ now: Date.now(), calendar: calendar! });
  // Decided once, at the start, so every dossier keeps one behaviour for its whole life.
  // The registration answer waits until the read model has the dossier, so a GET right after it finds it.
  const answerAfterProjection = patched('registration-answers-after-projection');
  // The calendar reaches open dossiers through calendarChangedSignal; reloading it before every event was redundant.
  const calendarBySignalOnly = patched('calendar-refreshed-by-signal-only');
  let registrationProjected = false;
  // Effects run in lanes, one per outside system: a payment gateway that is down no longer holds up
  // the courier. Projections are then serialised (see project()).
  const effectsInLanes = patched('effects-run-in-lanes');
  let effectsInFlight = 0;

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

  function commit(next: DossierState, more: Effect[]): void {
    state = next;
    effects.push(...more);
    upsertSearchAttributes(searchAttributeUpdates(next));
  }

  let projecting = false;
  let projectedVersion = -1;

  /** Returns once the read model has the state as it is now (or newer). */
  async function project(): Promise<void> {
    if (!effectsInLanes) {
      await local.projectDossier({ view: toView(state!) });
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
        await local.projectDossier({ view });
        projectedVersion = Math.max(projectedVersion, view.version);
      } finally {
        projecting = false;
      }
    }
  }

  // Registration: reference data and the calendar reach the workflow through activities (so replay sees them).
  const year = new Date(Date.parse(submission.submittedAt)).getUTCFullYear();
  const refs = await reference.loadDossierContext({ procedureCode: submission.procedureCode, agencyId: submission.agencyId, years: [year, year + 1] });
  calendar = new WorkingCalendar(refs.calendar);
  const registered = register({ submission, procedure: refs.procedure, agency: refs.agency, tariff: refs.tariff, settings }, ctx());
  commit(registered.state, registered.effects);
  await project();
  registrationProjected = true;

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
        const outcome = await perform(effect);
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
      let timedOut = false;
      if (at === null) await condition(wake);
      else if (at > Date.now()) timedOut = !(await condition(wake, at - Date.now()));
      else timedOut = true; // already due (an event reported late): fire at once
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

  function isTerminal(): boolean {
    return TERMINAL_STATUSES.has(state!.status);
  }

  function isDone(): boolean {
    // An effect in flight in one lane may still start effects in another.
    return isTerminal() && effects.length === 0 && effectsInFlight === 0 && timersDone;
  }

  let timersDone = false;
  const effectLoops = effectsInLanes ? EFFECT_LANES.map((lane) => runEffects(lane)) : [runEffects(null)];
  await runTimers();
  timersDone = true;
  await Promise.all(effectLoops);
  await condition(allHandlersFinished);
  await project();
  return toView(state!);

  async function perform(effect: Effect): Promise<SystemEvent | null> {
    const s = state!;
    switch (effect.kind) {
      case 'capture_payment': {
        const r = await external.capturePayment({ dossierCode: s.code, key: effect.key, amountVnd: effect.amountVnd, reference: effect.reference });
        return r.status === 'captured'
          ? { type: 'system.payment_captured', key: effect.key, amountVnd: r.amountVnd, reference: r.captureId }
          : { type: 'system.payment_declined', reason: r.reason };
      }
      case 'record_cash':
        await local.recordCashPayment({ dossierCode: s.code, key: effect.key, amountVnd: effect.amountVnd, by: effect.by });
        return null;
      case 'refund':
        await external.refundPayment({ dossierCode: s.code, key: effect.key, amountVnd: effect.amountVnd, method: effect.method, reference: effect.reference });
        return null;
      case 'hand_off': {
        const r = await external.handOffToAgency({ dossierCode: s.code, agencyId: s.agencyId, mode: effect.mode, dossier: toView(s) });
        return { type: 'system.handed_off', channel: r.channel };
      }
      case 'inform_agency':
        await external.informAgency({ dossierCode: s.code, agencyId: s.agencyId, key: effect.key, about: effect.about });
        return null;
      case 'dispatch_courier': {
        const job = await local.dispatchCourier({
          dossierCode: s.code,
          agencyId: s.agencyId,
          purpose: effect.purpose,
          attempt: effect.attempt,
          address: effect.address,
        });
        return { type: 'system.job_created', job };
      }
      case 'close_job':
        await local.closeCourierJob({ jobId: effect.jobId, outcome: effect.outcome });
        return null;
      case 'cancel_jobs':
        await local.cancelCourierJobs({ dossierCode: s.code, reason: effect.reason });
        return null;
      case 'notify':
        await local.notify({
          key: effect.key,
          dossierCode: s.code,
          audience: effect.audience,
          template: effect.template,
          data: effect.data ?? {},
          agencyId: s.agencyId,
          applicant: { phone: s.applicant.phone, email: s.applicant.email ?? null },
        });
        return effect.then ?? null;
    }
  }
}

const EFFECT_LANES = ['payments', 'agency', 'courier', 'notifications'] as const;
type EffectLane = (typeof EFFECT_LANES)[number];

/** The outside system an effect talks to; effects on one system keep their order. */
function laneOf(effect: Effect): EffectLane {
  switch (effect.kind) {
    case 'capture_payment':
    case 'record_cash':
    case 'refund':
      return 'payments';
    case 'hand_off':
    case 'inform_agency':
      return 'agency';
    case 'dispatch_courier':
    case 'close_job':
    case 'cancel_jobs':
      return 'courier';
    case 'notify':
      return 'notifications';
  }
}

async function refreshCalendar(current: WorkingCalendar): Promise<WorkingCalendar> {
  const years = current.years.map((y) => y.year);
  const thisYear = new Date(Date.now()).getUTCFullYear();
  const wanted = [...new Set([...years, thisYear, thisYear + 1])].sort();
  return new WorkingCalendar(await reference.loadCalendar({ years: wanted }));
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
