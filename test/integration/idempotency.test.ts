/**
 * Repeats sent at the same moment: a portal retrying a submission, a
 * courier's app syncing an event twice. dossier-api.test.ts covers the
 * repeats one after the other; these race them.
 */
import { formatInstant } from '../../domain/calendar';
import type { DossierView } from '../../domain/dossier';
import type { Submission } from '../../domain/types';
import { COLLECTIONS } from '../../store/db';
import { findDossier, type DossierDoc } from '../../store/read-model';
import { dossierWorkflowId } from '../../workflows/messages';
import { awaitingAssignedPickup, expectProblem, submitAndSettle, workflowView, type Answer } from '../support/api-checks';
import { submission } from '../support/fixtures';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';

const N = 8;

let sys: System;
beforeAll(async () => {
  sys = await System.start('idem');
});
afterAll(async () => {
  await sys?.stop();
});

const recent = () => formatInstant(Date.now() - 60_000);
const statuses = (rs: Answer[]) => rs.map((r) => r.status).sort();
const times = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

/** Runs of `dossier-<code>` the Temporal server knows, open or closed (visibility lags a moment). */
async function runs(code: string): Promise<string[]> {
  const list = async () => {
    const ids: string[] = [];
    for await (const wf of sys.temporal.workflow.list({ query: `WorkflowId = '${dossierWorkflowId(code)}'` })) ids.push(wf.runId);
    return ids;
  };
  return pollUntil(list, (ids) => ids.length > 0);
}

function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversedKeys(x)]));
  return v;
}

function timelineOf(v: Pick<DossierView, 'timeline'>, type: string) {
  return v.timeline.filter((t) => t.type === type);
}

describe('the same submission sent N times at once', () => {
  let sub: Submission;
  let answers: Answer[];

  beforeAll(async () => {
    sub = submission({ submittedAt: recent() });
    // Half of them with every object's keys in reverse order: the same payload all the same.
    answers = await times(N, (i) => sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body: i % 2 ? reversedKeys(sub) : sub }));
  });

  test('exactly one 201, the others 200, all with the same dossier', async () => {
    expect(statuses(answers)).toEqual([...Array(N - 1).fill(200), 201]);
    const created = answers.find((r) => r.status === 201)!;
    for (const r of answers) {
      expect(r.body).toMatchObject({ code: sub.code, agencyId: sub.agencyId, procedureCode: sub.procedureCode, applicant: sub.applicant });
      // Registered once: the same fees and the same committed deadline in every answer.
      expect({ fees: r.body.fees.totalVnd, deadlines: r.body.deadlines }).toEqual({ fees: created.body.fees.totalVnd, deadlines: created.body.deadlines });
    }
  });

  test('one workflow, one dossier in the read model, one pickup job, one capture', async () => {
    const ids = await runs(sub.code);
    expect(ids).toHaveLength(1);
    expect((await sys.dossiers.handle(sub.code).describe()).runId).toBe(ids[0]);
    const view = await pollUntil(async () => (await workflowView(sys, sub.code))!, awaitingAssignedPickup);
    expect(view.status).toBe('awaiting_pickup');
    expect(await sys.db.collection(COLLECTIONS.dossiers).countDocuments({ _id: sub.code } as never)).toBe(1);
    expect(await sys.db.collection(COLLECTIONS.deadlines).countDocuments({ dossierCode: sub.code })).toBe(1);
    expect(await sys.db.collection(COLLECTIONS.courierJobs).countDocuments({ dossierCode: sub.code })).toBe(1);
    expect(await sys.db.collection(COLLECTIONS.ledger).countDocuments({ dossierCode: sub.code, kind: 'capture' })).toBe(1);
    expect(sys.gateway.captures.filter((c) => c.idempotencyKey.includes(sub.code))).toHaveLength(1);
    expect(timelineOf(view, 'dossier.submitted')).toHaveLength(1);
  });
});

describe('the same event (same eventId) sent N times at once', () => {
  test('all 200 with the same view; the event is applied once, in the answers, the workflow and the read model', async () => {
    const sub = submission({ submittedAt: recent() });
    const before = await submitAndSettle(sys, sub, awaitingAssignedPickup);
    const courier = sys.token('courier', { courierId: before.job!.courierId! });
    const eventId = `${sub.code}-pickup`;
    const answers = await times(N, () => sys.request('POST', `/v1/dossiers/${sub.code}/events`, { token: courier, body: { type: 'courier.picked_up', eventId } }));

    expect(statuses(answers)).toEqual(Array(N).fill(200));
    for (const r of answers) expect(r.body).toEqual(answers[0]!.body);
    const answer: DossierView = answers[0]!.body;
    expect(answer).toMatchObject({ status: 'in_transit_to_agency', version: before.version + 1 });
    expect(timelineOf(answer, 'courier.picked_up')).toEqual([expect.objectContaining({ eventId })]);

    const now = (await workflowView(sys, sub.code))!;
    expect(timelineOf(now, 'courier.picked_up')).toHaveLength(1);
    const read = await pollUntil(
      () => findDossier(sys.db, sub.code),
      (d) => (d?.version ?? 0) >= now.version,
    );
    expect(timelineOf(read!.view, 'courier.picked_up')).toEqual(timelineOf(answer, 'courier.picked_up'));
    // The pickup deadline was closed once.
    expect(read!.view.deadlines.filter((d) => d.stage === 'pickup')).toEqual([expect.objectContaining({ state: 'met_on_time' })]);
  });

  test('after the dossier has ended, the same eventId N times at once: all 200 with the same view; the submission again 200 or 409; nothing changes', async () => {
    const sub = submission({ submittedAt: recent() });
    await submitAndSettle(sys, sub, awaitingAssignedPickup);
    const eventId = `${sub.code}-withdraw`;
    const send = () => sys.request('POST', `/v1/dossiers/${sub.code}/events`, { token: sys.token('portal'), body: { type: 'citizen.withdrawn', reason: 'Đổi ý', eventId } });
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('withdrawn');
    // Let the workflow finish (refund, jobs cancelled, last projection), so the repeats meet a closed workflow.
    await sys.dossiers.handle(sub.code).result();
    const versionBefore = (await sys.db.collection<DossierDoc>(COLLECTIONS.dossiers).findOne({ _id: sub.code }))!.version;

    const answers = await times(N, send);
    expect(statuses(answers)).toEqual(Array(N).fill(200));
    for (const r of answers) expect(r.body).toEqual(answers[0]!.body);
    expect(answers[0]!.body.status).toBe('withdrawn');
    expect(timelineOf(answers[0]!.body, 'citizen.withdrawn')).toEqual(timelineOf(first.body, 'citizen.withdrawn'));
    const after = await findDossier(sys.db, sub.code);
    expect(after!.version).toBe(versionBefore);
    expect(timelineOf(after!.view, 'citizen.withdrawn')).toHaveLength(1);

    // The submission repeated after the end: still 200 (the same payload) or 409 (another), and no second run.
    const again = await times(N, (i) =>
      sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body: i % 2 ? sub : { ...sub, payment: { method: 'cash' } } }),
    );
    again.forEach((r, i) => (i % 2 ? expect(r.body).toMatchObject({ code: sub.code, status: 'withdrawn' }) : expect(r.body.type).toBe('/problems/duplicate-code')));
    expect(statuses(again)).toEqual([...Array(N / 2).fill(200), ...Array(N / 2).fill(409)]);
    expect(await runs(sub.code)).toHaveLength(1);
    expect((await sys.db.collection<DossierDoc>(COLLECTIONS.dossiers).findOne({ _id: sub.code }))!.version).toBe(versionBefore);
  });
});

describe('the same code with different payloads at once', () => {
  test('one 201; the same payload as the winner 200; every other payload 409; the dossier is the winner', async () => {
    const base = submission({ submittedAt: recent() });
    const variants = [
      { ...base, applicant: { ...base.applicant, fullName: 'Nguyễn Văn Hoàn' } },
      { ...base, applicant: { ...base.applicant, fullName: 'Trần Thị Bích' } },
      { ...base, payment: { method: 'cash' as const } },
      { ...base, procedureCode: '2.000488' },
    ];
    // Two of each, interleaved.
    const bodies = [...variants, ...variants];
    const answers = await times(bodies.length, (i) => sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body: bodies[i] }));

    const winners = answers.map((r, i) => [r, i] as const).filter(([r]) => r.status === 201);
    expect(winners).toHaveLength(1);
    const w = winners[0]![1] % variants.length;
    answers.forEach((r, i) => {
      if (i === winners[0]![1]) return;
      if (i % variants.length === w) expect({ i, status: r.status }).toEqual({ i, status: 200 });
      else {
        expectProblem(r, 409);
        expect(r.body.type).toBe('/problems/duplicate-code');
      }
    });

    const read = await sys.request('GET', `/v1/dossiers/${base.code}`, { token: sys.token('portal') });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ applicant: variants[w]!.applicant, procedureCode: variants[w]!.procedureCode, payment: { method: variants[w]!.payment.method } });
    expect(await runs(base.code)).toHaveLength(1);
  });
});
