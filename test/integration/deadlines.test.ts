/**
 * Every request has a deadline (issue: slow 503s). With the read model
 * paused, then with Temporal unreachable (each behind a TCP proxy that holds
 * every byte, as a stopped process would), every request is answered within
 * its deadline, with 503 and Retry-After where it needed the missing part,
 * and service resumes once the dependency is back.
 */
import { DEFAULT_DEADLINES } from '../../api/deadline';
import { DEFAULT_MONGO_BOUNDS, boundedMongoClient } from '../../store/db';
import { submission } from '../support/fixtures';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';
import { TcpProxy } from '../support/tcp-proxy';

/** Slack for the answer to travel and for a busy test machine. */
const SLACK_MS = 1500;

type Answer = Awaited<ReturnType<System['request']>> & { tookMs: number };

async function timed(sys: System, method: string, path: string, opts: Parameters<System['request']>[2] = {}): Promise<Answer> {
  const started = Date.now();
  const answer = await sys.request(method, path, opts);
  return { ...answer, tookMs: Date.now() - started };
}

/** 503 with Retry-After, a problem (or /readyz's own report), within the deadline. */
function expectUnavailableWithin(answer: Answer, deadlineMs: number): void {
  expect({ status: answer.status, retryAfter: answer.headers.get('retry-after'), type: answer.headers.get('content-type') }).toEqual({
    status: 503,
    retryAfter: expect.stringMatching(/^\d+$/),
    type: expect.stringMatching(/^application\/(problem\+)?json/),
  });
  expect(answer.tookMs).toBeLessThan(deadlineMs + SLACK_MS);
}

describe('request deadlines', () => {
  const { readMs, writeMs } = DEFAULT_DEADLINES;
  let mongoProxy: TcpProxy;
  let temporalProxy: TcpProxy;
  let sys: System;
  const apiMongo = () => boundedMongoClient(`mongodb://${mongoProxy.address}`, DEFAULT_MONGO_BOUNDS);
  let apiClient: ReturnType<typeof apiMongo>;
  // Sent electronically: the agency may sign receipt at once.
  const body = submission({ services: { collect: false, deliver: true }, pickupAddress: undefined });

  beforeAll(async () => {
    mongoProxy = await TcpProxy.start(new URL(process.env.TEST_MONGODB_URI!).host);
    temporalProxy = await TcpProxy.start(process.env.TEST_TEMPORAL_ADDRESS!);
    apiClient = apiMongo();
    sys = await System.start('deadlines', {
      apiDb: (name) => apiClient.db(name),
      apiTemporalAddress: temporalProxy.address,
      deadlines: DEFAULT_DEADLINES,
    });
    const created = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    mongoProxy.resume();
    temporalProxy.resume();
    await sys.stop();
    await apiClient.close();
    await mongoProxy.close();
    await temporalProxy.close();
  });

  it('answers every request within its deadline while the read model is paused, then serves again', async () => {
    const manager = sys.token('manager');
    const agency = sys.token('agency', { agencyId: body.agencyId });
    mongoProxy.pause();
    try {
      const answers = await Promise.all([
        timed(sys, 'GET', `/v1/dossiers/${body.code}`, { token: manager }),
        timed(sys, 'GET', '/v1/dossiers?limit=5', { token: manager }),
        timed(sys, 'GET', '/v1/compliance/overdue', { token: manager }),
        timed(sys, 'GET', '/readyz'),
      ]);
      for (const a of answers) expectUnavailableWithin(a, readMs);
      const event = await timed(sys, 'POST', `/v1/dossiers/${body.code}/events`, {
        token: agency,
        body: { type: 'agency.supplement_requested', reason: 'x', items: ['y'], eventId: `${body.code}-sup` },
      });
      expectUnavailableWithin(event, writeMs);
    } finally {
      mongoProxy.resume();
    }
    const after = await timed(sys, 'GET', `/v1/dossiers/${body.code}`, { token: manager });
    expect(after.status).toBe(200);
    expect((await sys.request('GET', '/readyz')).status).toBe(200);
  }, 60_000);

  it('answers every request within its deadline while Temporal is unreachable, then serves again', async () => {
    const manager = sys.token('manager');
    const agency = sys.token('agency', { agencyId: body.agencyId });
    temporalProxy.pause();
    const other = submission();
    try {
      const [ready, read, submitted, event] = await Promise.all([
        timed(sys, 'GET', '/readyz'),
        timed(sys, 'GET', `/v1/dossiers/${body.code}`, { token: manager }),
        timed(sys, 'POST', '/v1/dossiers', { token: sys.token('portal'), body: other }),
        timed(sys, 'POST', `/v1/dossiers/${body.code}/events`, { token: agency, body: { type: 'agency.received', eventId: `${body.code}-rcv` } }),
      ]);
      expectUnavailableWithin(ready, readMs);
      // Reads come from the read model, which is up.
      expect(read.status).toBe(200);
      expectUnavailableWithin(submitted, writeMs);
      expectUnavailableWithin(event, writeMs);
    } finally {
      temporalProxy.resume();
    }
    expect((await sys.request('GET', '/readyz')).status).toBe(200);
    const event = await sys.request('POST', `/v1/dossiers/${body.code}/events`, { token: agency, body: { type: 'agency.received', eventId: `${body.code}-rcv` } });
    expect(event.status).toBe(200);
    expect(event.body.status).toBe('processing');
  }, 90_000);
});

describe('an event not confirmed within its deadline', () => {
  it('answers 503 saying it may still be applied (event-outcome-unknown without an eventId), and a worker applies it later', async () => {
    const sys = await System.start('late-event', { deadlines: { readMs: 4000, writeMs: 3000 } });
    try {
      const body = submission({ services: { collect: false, deliver: true }, pickupAddress: undefined });
      const manager = sys.token('manager');
      const read = () => sys.request('GET', `/v1/dossiers/${body.code}`, { token: manager });
      // The short write deadline may answer 202 on a busy machine: the dossier is registered a moment later.
      expect([201, 202]).toContain((await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body })).status);
      expect((await pollUntil(read, (a) => a.status === 200 && a.body.status === 'in_transit_to_agency', 300)).body.status).toBe('in_transit_to_agency');

      // No worker: Temporal takes the update, nobody runs it before the deadline.
      await sys.stopWorker();
      const agency = sys.token('agency', { agencyId: body.agencyId });
      const path = `/v1/dossiers/${body.code}/events`;
      const anonymous = await timed(sys, 'POST', path, { token: agency, body: { type: 'agency.received', receiptNo: 'BN-1' } });
      expectUnavailableWithin(anonymous, 3000);
      expect(anonymous.body).toMatchObject({ type: '/problems/event-outcome-unknown', status: 503, detail: expect.stringMatching(/may still be applied.*could apply it twice/) });
      const identified = await timed(sys, 'POST', path, { token: agency, body: { type: 'agency.received', receiptNo: 'BN-1', eventId: `${body.code}-rcv` } });
      expectUnavailableWithin(identified, 3000);
      expect(identified.body).toMatchObject({ type: '/problems/dependency-unavailable', detail: expect.stringMatching(/may still be applied.*send the same request again/) });

      // Both were taken: once a worker runs, one is applied and the other refused by the lifecycle (received already).
      await sys.restartWorker();
      const after = await pollUntil(read, (a) => a.body.status === 'processing', 300);
      expect(after.body.status).toBe('processing');
      expect(after.body.timeline.filter((t: { type: string }) => t.type === 'agency.received')).toHaveLength(1);
    } finally {
      await sys.stop();
    }
  }, 90_000);
});
