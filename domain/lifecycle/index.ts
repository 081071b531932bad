/**
 * The dossier lifecycle as pure functions: `decide` applies an event reported
 * by a user, `applySystem` the outcome of a side effect, `tick` the passage of
 * time. Each returns the next state and the effects to run, or a refusal.
 * The workflow owns time and effects; everything else is here, so it can be
 * tested exhaustively without Temporal.
 *
 * register.ts     the state right after submission
 * decide.ts       reported events: who, when, which handler (events/)
 * system.ts       outcomes of side effects
 * time.ts         alarms and `tick`
 * deadlines.ts    deadline records and the rules switch
 * money.ts        fees, cash, refunds
 * refusals.ts     refusals and the checks that give them
 * view.ts         the view readers see
 */
export type { Audience, Context, Decision, Effect, Registration, SystemEvent } from './types';
export { register } from './register';
export { decide } from './decide';
export { MAX_APOLOGY_DAYS } from './events/processing';
export { applySystem } from './system';
export { nextAlarmAt, tick } from './time';
export { deadline, rulesV2 } from './deadlines';
export { feesView } from './money';
export { toView } from './view';
