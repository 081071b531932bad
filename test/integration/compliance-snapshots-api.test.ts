/**
 * The worker's Schedules on the dev server (created, then updated; a backfill
 * and a trigger each record the right day), and the snapshots read back
 * through `GET /v1/compliance/snapshots`.
 */
import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy, type ScheduleHandle } from '@temporalio/client';
import { addCalendarDays, formatInstant, localDate } from '../../domain/calendar';
import { writeProjection } from '../../store/read-model';
import { SNAPSHOTS_COLLECTION, type ComplianceSnapshot } from '../../store/snapshots';
import { ensureSchedules, SNAPSHOT_TIMEZONE, type ScheduleSettings } from '../../workers/schedules';
import { marchScenario } from '../support/domain-views';
import { MaintenanceWorker } from '../support/maintenance';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';
import { legalCounts } from '../support/compliance-figures';

let sys: System;
let maintenance: MaintenanceWorker;
let settings: ScheduleSettings;

beforeAll(async () => {
  sys = await System.start('snapshots');
  maintenance = await MaintenanceWorker.start({ connection: sys.nativeConnection, temporal: sys.temporal, db: sys.db });
  for (const d of marchScenario()) for (const v of d.views) await writeProjection(sys.db, v);
  await sys.countsSettled({ verify: false });
  const id = randomUUID().slice(0, 8);
  settings = {
    taskQueue: maintenance.taskQueue,
    snapshotScheduleId: `test-snapshot-${id}`,
    snapshotTime: '17:30',
    reconcileScheduleId: `test-reconcile-${id}`,
    reconcileIntervalMinutes: 60,
    reconcileBatchSize: 50,
  };
}, 120_000);
afterAll(async () => {
  for (const id of [settings?.snapshotScheduleId, settings?.reconcileScheduleId]) {
    if (id) await sys.temporal.schedule.getHandle(id).delete().catch(() => undefined);
  }
  await maintenance?.stop();
  await sys?.stop();
});

const snapshotSchedule = (): ScheduleHandle => sys.temporal.schedule.getHandle(settings.snapshotScheduleId);
const stored = (day: string) => sys.db.collection<ComplianceSnapshot>(SNAPSHOTS_COLLECTION).findOne({ _id: day });
const get = (query: string, token = sys.token('manager')) => sys.request('GET', `/v1/compliance/snapshots${query}`, { token });

describe('the Schedules the worker keeps', () => {
  test('created at the first start, updated at the next (an operator pause is kept)', async () => {
    expect(await ensureSchedules(sys.temporal, { ...settings, snapshotTime: '16:45', reconcileIntervalMinutes: 30 })).toEqual({
      [settings.snapshotScheduleId]: 'created',
      [settings.reconcileScheduleId]: 'created',
    });
    await sys.temporal.schedule.getHandle(settings.reconcileScheduleId).pause('paused by the operator');
    expect(await ensureSchedules(sys.temporal, settings)).toEqual({
      [settings.snapshotScheduleId]: 'updated',
      [settings.reconcileScheduleId]: 'updated',
    });

    const snap = await snapshotSchedule().describe();
    expect(snap.spec.timezone).toBe(SNAPSHOT_TIMEZONE);
    expect(snap.action).toMatchObject({ type: 'startWorkflow', workflowType: 'complianceSnapshotWorkflow', taskQueue: settings.taskQueue });
    expect(snap.policies.overlap).toBe(ScheduleOverlapPolicy.ALLOW_ALL);
    // Every day, weekends and holidays too, at 17:30 local.
    const next = snap.info.nextActionTimes.slice(0, 3).map((t) => formatInstant(t.getTime()));
    expect(next).toHaveLength(3);
    for (const [i, t] of next.entries()) {
      expect(t.slice(11)).toBe('17:30:00+07:00');
      if (i > 0) expect(t.slice(0, 10)).toBe(addCalendarDays(next[i - 1]!.slice(0, 10), 1));
    }

    const rec = await sys.temporal.schedule.getHandle(settings.reconcileScheduleId).describe();
    expect(rec.spec.intervals).toEqual([expect.objectContaining({ every: 3600_000 })]);
    expect(rec.action).toMatchObject({ workflowType: 'reconcileReadModelWorkflow', args: [{ batchSize: 50 }] });
    expect(rec.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(rec.state).toMatchObject({ paused: true, note: 'paused by the operator' });
  });

  test('a backfilled run records the day it stands for, at its nominal time, not the day it runs', async () => {
    // 17:30 in Hà Nội is 10:30 UTC. Wednesday 4 and Saturday 7 March 2026.
    await snapshotSchedule().backfill([
      { start: new Date('2026-03-04T10:00:00Z'), end: new Date('2026-03-04T11:00:00Z'), overlap: ScheduleOverlapPolicy.ALLOW_ALL },
      { start: new Date('2026-03-07T10:00:00Z'), end: new Date('2026-03-07T11:00:00Z'), overlap: ScheduleOverlapPolicy.ALLOW_ALL },
    ]);
    const wed = await pollUntil(() => stored('2026-03-04'), (d) => d !== null);
    const sat = await pollUntil(() => stored('2026-03-07'), (d) => d !== null);
    expect(wed).toMatchObject({ workingDay: true, scheduledAt: new Date('2026-03-04T10:30:00Z'), due: { totals: legalCounts(2, 0, 1, 0, 1, 0) } });
    expect(sat).toMatchObject({ workingDay: false, scheduledAt: new Date('2026-03-07T10:30:00Z'), due: { totals: legalCounts(0, 0, 0, 0, 0, null) } });
    // Taken now, long after the day: the snapshot says so.
    expect(wed!.takenAt.getTime()).toBeGreaterThan(Date.now() - 60_000);

    const res = await get('?from=2026-03-01&to=2026-03-31');
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { day: string }) => i.day)).toEqual(['2026-03-04', '2026-03-07']);
    expect(res.body.items[0]).toMatchObject({
      day: '2026-03-04',
      month: '2026-03',
      workingDay: true,
      scheduledAt: '2026-03-04T17:30:00+07:00',
      takenAt: formatInstant(wed!.takenAt.getTime()),
      schemaVersion: 1,
      due: { from: '2026-03-04', to: '2026-03-04', byAgency: [{ key: 'HL-TNMT', ...legalCounts(2, 0, 1, 0, 1, 0) }], byStage: [{ key: 'handoff', ...legalCounts(2, 0, 1, 0, 1, 0) }] },
      monthToDate: { from: '2026-03-01', to: '2026-03-04', totals: legalCounts(5, 3, 1, 0, 1, 3 / 5) },
    });
    expect(res.body.items[1]).toMatchObject({ day: '2026-03-07', workingDay: false, monthToDate: { totals: legalCounts(8, 6, 1, 0, 1, 6 / 8) } });
    // Days that are over and have no snapshot, for an operator to backfill.
    expect(res.body.missing).toHaveLength(29);
    expect(res.body.missing).not.toContain('2026-03-04');
    expect(res.body.missing.slice(0, 4)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-05']);
  });

  test('triggering the Schedule records today', async () => {
    await snapshotSchedule().trigger();
    const today = localDate(Date.now());
    const doc = await pollUntil(
      async () => (await stored(today)) ?? (await stored(addCalendarDays(today, 1))),
      (d) => d !== null,
    );
    expect(doc).toMatchObject({ due: { totals: { total: 0 } } });
    expect(doc!.scheduledAt).not.toBeNull();
    const res = await get(`?from=${doc!.day}&to=${doc!.day}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from: doc!.day, to: doc!.day, items: [{ day: doc!.day }], missing: [] });
  });
});

describe('GET /v1/compliance/snapshots', () => {
  test('inclusive dates, up to 366 days; an empty range answers no items', async () => {
    const year = await get('?from=2025-03-02&to=2026-03-02');
    expect(year.status).toBe(200);
    expect(year.body.items.map((i: { day: string }) => i.day)).toEqual([]);
    const oneDay = await get('?from=2026-03-04&to=2026-03-04');
    expect(oneDay.body.items.map((i: { day: string }) => i.day)).toEqual(['2026-03-04']);
    // Future days are not "missing".
    const future = addCalendarDays(localDate(Date.now()), 10);
    expect((await get(`?from=${future}&to=${future}`)).body).toEqual({ from: future, to: future, items: [], missing: [] });
  });

  test('bad parameters are 400 problem+json naming the field', async () => {
    const bad = async (query: string, errors: { path: string; message?: string }[]) => {
      const res = await get(query);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: '/problems/validation', status: 400 });
      expect(res.body.errors).toEqual(errors.map((e) => expect.objectContaining(e)));
    };
    await bad('', [{ path: 'from' }, { path: 'to' }]);
    await bad('?from=2026-03-01', [{ path: 'to' }]);
    await bad('?from=2026-02-30&to=2026-03-01', [{ path: 'from' }]);
    await bad('?from=2026-03-02&to=2026-03-01', [{ path: 'to', message: 'must not be before from' }]);
    await bad('?from=2025-03-01&to=2026-03-02', [{ path: 'to', message: 'must be at most 366 days from from' }]);
    await bad('?from=2026-03-01&to=2026-03-02&agencyId=HL-TNMT', [{ path: 'agencyId', message: 'is not a known field' }]);
    await bad('?from=2026-03-01&from=2026-03-02&to=2026-03-03', [{ path: 'from' }]);
  });

  test('401 without a token, 403 for portal, agency, courier and clerk; manager and admin allowed', async () => {
    const path = '/v1/compliance/snapshots?from=2026-03-01&to=2026-03-31';
    expect((await sys.request('GET', path)).status).toBe(401);
    for (const token of [sys.token('portal'), sys.token('agency', { agencyId: 'HL-TNMT' }), sys.token('courier', { courierId: 'HL-BT01' }), sys.token('clerk')]) {
      const res = await sys.request('GET', path, { token });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ type: '/problems/forbidden' });
    }
    expect((await sys.request('GET', path, { token: sys.token('admin') })).status).toBe(200);
    expect((await sys.request('GET', path, { token: sys.token('manager') })).status).toBe(200);
  });
});
