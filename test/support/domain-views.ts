/**
 * Dossier views as the workflow projects them, produced by the pure lifecycle
 * (no Temporal): every state change yields the view the workflow would hand
 * to `projectDossier`, in order. For read-model tests that need many real
 * views fast, and a known final state to compare against.
 */
import { formatInstant, parseInstant, WorkingCalendar } from '../../domain/calendar';
import type { DossierState, DossierView } from '../../domain/dossier';
import type { DossierEvent, EventCommand } from '../../domain/events';
import { applySystem, decide, register, tick, toView, type Context, type Effect } from '../../domain/lifecycle';
import type { Submission } from '../../domain/types';
import * as ref from '../../reference-data';
import { workerOutcome } from './effects';
import { HA_LONG_HOME, submission } from './fixtures';

const calendar = new WorkingCalendar(ref.calendars);
const settings = { supplementRule: 'restart' as const, classOneProvinces: [] };

const ACTORS: Record<string, (s: DossierState) => EventCommand['actor']> = {
  portal: () => ({ role: 'portal', id: 'portal' }),
  agency: (s) => ({ role: 'agency', id: 'desk', agencyId: s.agencyId }),
  courier: (s) => ({ role: 'courier', id: 'c', courierId: s.job?.courierId ?? 'HL-BT01' }),
  clerk: () => ({ role: 'clerk', id: 'clerk' }),
};

export const SELF = { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' as const };

/** One dossier played through the lifecycle; `views` holds every projected view, oldest first. */
export class PlayedDossier {
  readonly views: DossierView[] = [];
  private state!: DossierState;

  constructor(sub: Submission) {
    const ctx = this.ctx(parseInstant(sub.submittedAt));
    const r = register(
      {
        submission: sub,
        procedure: ref.procedures.find((p) => p.code === sub.procedureCode)!,
        agency: ref.agencies.find((a) => a.id === sub.agencyId)!,
        tariff: ref.tariff,
        settings,
      },
      ctx,
    );
    this.commit(r.state, r.effects, ctx);
  }

  get code(): string {
    return this.view.code;
  }

  /** The latest view: what the workflow's query answers. */
  get view(): DossierView {
    return this.views.at(-1)!;
  }

  /** A user event at `at` (local ISO), after the alarms due by then have fired. */
  event(actor: keyof typeof ACTORS, event: DossierEvent, at: string): this {
    this.tickAt(at);
    const ctx = this.ctx(parseInstant(at));
    const d = decide(this.state, { event, actor: ACTORS[actor]!(this.state), occurredAt: at }, ctx);
    if (!d.ok) throw new Error(`${event.type} refused: ${d.refusal.detail}`);
    this.commit(d.state, d.effects, ctx);
    return this;
  }

  /** The workflow's timer firing at `at`. */
  tickAt(at: string): this {
    const ctx = this.ctx(parseInstant(at));
    const t = tick(this.state, ctx);
    if (t.state !== this.state) this.commit(t.state, t.effects, ctx);
    return this;
  }

  private ctx(now: number): Context {
    return { now, calendar };
  }

  /** Records the state, then plays its effects as the worker would, each outcome a new version. */
  private commit(state: DossierState, effects: Effect[], ctx: Context): void {
    this.state = state;
    this.views.push(toView(state));
    const queue = [...effects];
    while (queue.length) {
      const e = queue.shift()!;
      const outcome = workerOutcome(this.state, e);
      if (!outcome) continue;
      const r = applySystem(this.state, outcome, ctx);
      this.state = r.state;
      this.views.push(toView(r.state));
      queue.push(...r.effects);
    }
  }
}

const electronic = (over: Partial<Submission>): Submission =>
  submission({ services: { collect: false, deliver: true }, pickupAddress: undefined, delivery: { method: 'home', address: HA_LONG_HOME }, ...over });

/**
 * Six dossiers in March 2026 (no holiday that month), with deadlines worked
 * out by hand (J = the event's day, or the next working day from 15:00):
 *
 * | dossier | agency | deadline: due day → state |
 * |---|---|---|
 * | F1 | HL-UBND | handoff 03-02 met_on_time; processing 03-05 met_on_time; delivery 03-05 met_on_time (delivered, terminal) |
 * | F2 | HL-TNMT | pickup 03-03 met_on_time; handoff 03-04 met_late; processing 03-19 overdue |
 * | F3 | QN-STP  | handoff 03-03 met_on_time (withdrawn, terminal) |
 * | F4 | HL-TNMT | handoff 03-04 overdue |
 * | F5 | HL-UBND | handoff 03-06 met_on_time; processing 03-11 open |
 * | F6 | HL-UBND | handoff 03-09 open |
 */
export function marchScenario(): PlayedDossier[] {
  const f1 = new PlayedDossier(electronic({ procedureCode: '2.000720', agencyId: 'HL-UBND', submittedAt: '2026-03-02T09:15:00+07:00' }))
    .event('agency', { type: 'agency.received' }, '2026-03-02T11:00:00+07:00')
    .event('agency', { type: 'agency.completed', outcome: 'approved' }, '2026-03-04T10:00:00+07:00')
    .event('courier', { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF }, '2026-03-05T14:00:00+07:00');
  const f2 = new PlayedDossier(submission({ procedureCode: '1.001234', agencyId: 'HL-TNMT', submittedAt: '2026-03-02T09:15:00+07:00' }))
    .event('courier', { type: 'courier.picked_up' }, '2026-03-03T10:00:00+07:00')
    .event('agency', { type: 'agency.received' }, '2026-03-05T09:00:00+07:00')
    .tickAt('2026-03-20T00:00:00+07:00');
  const f3 = new PlayedDossier(electronic({ procedureCode: '2.000488', agencyId: 'QN-STP', submittedAt: '2026-03-02T16:00:00+07:00' })).event(
    'portal',
    { type: 'citizen.withdrawn', reason: 'no longer needed' },
    '2026-03-03T09:00:00+07:00',
  );
  const f4 = new PlayedDossier(electronic({ procedureCode: '1.001234', agencyId: 'HL-TNMT', submittedAt: '2026-03-04T09:00:00+07:00' })).tickAt(
    '2026-03-05T08:00:00+07:00',
  );
  const f5 = new PlayedDossier(electronic({ procedureCode: '2.000720', agencyId: 'HL-UBND', submittedAt: '2026-03-06T09:00:00+07:00' })).event(
    'agency',
    { type: 'agency.received' },
    '2026-03-06T10:00:00+07:00',
  );
  const f6 = new PlayedDossier(electronic({ procedureCode: '2.000720', agencyId: 'HL-UBND', submittedAt: '2026-03-09T09:00:00+07:00' })).tickAt(
    '2026-03-09T12:00:00+07:00',
  );
  return [f1, f2, f3, f4, f5, f6];
}

/** `formatInstant` of a Date, for comparing read-model docs with views. */
export const instant = (d: Date | null): string | null => (d ? formatInstant(d.getTime()) : null);
