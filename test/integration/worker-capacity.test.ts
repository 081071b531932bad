/**
 * The worker's capacity against the real stack: many dossiers at once all
 * move on while the worker's read-model connections stay within its pool's
 * bound, and a worker whose activities are stuck on a read model that does
 * not answer still stops within its bound (so a supervisor's restart never
 * runs two workers at once). Both against the sustained-load stall: 100
 * concurrent activities, an unbounded pool, attempts that never gave up.
 */
import { temporal } from '@temporalio/proto';
import type { MongoClient } from 'mongodb';
import { DEFAULT_MONGO_BOUNDS, boundedMongoClient } from '../../store/db';
import { submission } from '../support/fixtures';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';
import { TcpProxy } from '../support/tcp-proxy';

function watchConnections(client: MongoClient): { open: () => number; peak: () => number } {
  let open = 0;
  let peak = 0;
  client.on('connectionCreated', () => {
    open += 1;
    peak = Math.max(peak, open);
  });
  client.on('connectionClosed', () => (open -= 1));
  return { open: () => open, peak: () => peak };
}

describe('worker capacity', () => {
  it('moves many dossiers at once with its read-model connections within the pool bound', async () => {
    const maxPoolSize = 4;
    const workerMongo = boundedMongoClient(process.env.TEST_MONGODB_URI!, { ...DEFAULT_MONGO_BOUNDS, maxPoolSize });
    const connections = watchConnections(workerMongo);
    const sys = await System.start('capacity', { workerDb: (name) => workerMongo.db(name) });
    try {
      const portal = sys.token('portal');
      const agency = sys.token('agency', { agencyId: 'HL-UBND' });
      const subs = Array.from({ length: 16 }, () =>
        submission({ procedureCode: '2.000720', agencyId: 'HL-UBND', services: { collect: false, deliver: true }, pickupAddress: undefined, payment: { method: 'cash' } }),
      );
      // A burst may outlast the registration wait; the portal then sends the same request again.
      const submit = async (body: unknown) => {
        for (let tries = 1; ; tries++) {
          const answer = await sys.request('POST', '/v1/dossiers', { token: portal, body });
          if (answer.status < 300 && answer.status !== 202) return answer;
          if (tries === 5 || (answer.status !== 503 && answer.status !== 202)) return answer;
        }
      };
      const created = await Promise.all(subs.map(submit));
      expect(created.filter((r) => r.status !== 201 && r.status !== 200).map((r) => r.body)).toEqual([]);
      const received = await Promise.all(
        subs.map((s) => sys.request('POST', `/v1/dossiers/${s.code}/events`, { token: agency, body: { type: 'agency.received', eventId: `${s.code}-rcv` } })),
      );
      expect(received.map((r) => r.status)).toEqual(subs.map(() => 200));
      const manager = sys.token('manager');
      const views = await pollUntil(
        async () => Promise.all(subs.map((s) => sys.request('GET', `/v1/dossiers/${s.code}`, { token: manager }))),
        (answers) => answers.every((a) => a.status === 200 && a.body.status === 'processing'),
        300,
      );
      expect(views.map((v) => v.body.status)).toEqual(subs.map(() => 'processing'));
      expect(connections.peak()).toBeGreaterThan(0);
      expect(connections.peak()).toBeLessThanOrEqual(maxPoolSize);
    } finally {
      await sys.stop();
      await workerMongo.close();
    }
  }, 120_000);

  it('stops within its bound while its activities are stuck on a read model that does not answer', async () => {
    const proxy = await TcpProxy.start(new URL(process.env.TEST_MONGODB_URI!).host);
    const workerMongo = boundedMongoClient(`mongodb://${proxy.address}`, DEFAULT_MONGO_BOUNDS);
    const capacity = { shutdownGraceMs: 1000, shutdownForceMs: 2000 };
    const sys = await System.start('stop-bound', { workerDb: (name) => workerMongo.db(name), capacity });
    let submitted: Promise<unknown> = Promise.resolve();
    try {
      const body = submission();
      proxy.pause();
      // Answered when registration times out; the worker is stopped long before.
      submitted = sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body }).catch(() => undefined);
      const handle = sys.dossiers.handle(body.code);
      // The reference data are read by a local activity in the first workflow task (patch
      // dossier-context-local): that task stays started while the read stalls.
      const stuck = (d: Awaited<ReturnType<typeof handle.describe>> | null) =>
        Boolean(d?.raw.pendingActivities?.some((a) => a.lastStartedTime)) || d?.raw.pendingWorkflowTask?.state === temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED;
      const described = await pollUntil(() => handle.describe().catch(() => null), stuck, 200);
      expect(stuck(described)).toBe(true);
      // Stuck long enough for the attempt to be on the paused connection.
      await new Promise((r) => setTimeout(r, 500));
      const asked = Date.now();
      // The local read's attempt gives up (2 s) and its retry waits on a durable timer: the task completes and the worker drains.
      await sys.stopWorker();
      const took = Date.now() - asked;
      expect(took).toBeLessThan(capacity.shutdownGraceMs + capacity.shutdownForceMs + 1000);
    } finally {
      proxy.resume();
      await submitted;
      await sys.stop();
      await workerMongo.close();
      await proxy.close();
    }
  }, 60_000);
});
