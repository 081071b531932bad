/**
 * What one dossier's journey costs the read model, in commands (issue #13):
 * the embedded FerretDB has one SQLite writer and pays per operation, so the
 * dossier worker's throughput is the number of commands its activities send.
 * Counted through the driver's command monitoring on the worker's own client,
 * by the activity that sent them. The journey took 77 before issue #13's
 * batching (54 of them the projections', 2 per deadline and 1 per
 * dossier write), 47 after (49 with the list hour's records); the bounds
 * below keep a projection's writes batched.
 */
import { Context } from '@temporalio/activity';
import { MongoClient } from 'mongodb';
import { homeSubmission } from '../../reference-data/example-submissions';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';

const SELF = { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', relationship: 'self' as const };

/** Commands by `activity collection.command`; the compliance counts' aggregator and the worker's startup are not the journey's. */
function countCommands(client: MongoClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.on('commandStarted', (e) => {
    let info: Context['info'];
    try {
      info = Context.current().info;
    } catch {
      return;
    }
    if (info.workflowType !== 'dossierWorkflow') return;
    const activity = info.activityType;
    const target = e.command[e.commandName];
    const key = `${activity} ${typeof target === 'string' ? target : '-'}.${e.commandName}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return counts;
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

describe('read-model commands per journey', () => {
  it('a collect-and-deliver journey stays within its command budget', async () => {
    const workerMongo = new MongoClient(process.env.TEST_MONGODB_URI!, { monitorCommands: true });
    await workerMongo.connect();
    const counts = countCommands(workerMongo);
    const sys = await System.start('commands', { workerDb: (name) => workerMongo.db(name) });
    try {
      const code = `CMD-${Date.now().toString(36)}`;
      const portal = sys.token('portal');
      const manager = sys.token('manager');
      const agency = sys.token('agency', { agencyId: 'HL-TNMT' });
      const courier = (id: string) => sys.token('courier', { courierId: id });
      const submitted = await sys.request('POST', '/v1/dossiers', { token: portal, body: { ...homeSubmission(code), submittedAt: new Date(Date.now() - 60_000).toISOString() } });
      expect(submitted.status).toBe(201);
      const read = (ok: (v: any) => boolean) => pollUntil(() => sys.request('GET', `/v1/dossiers/${code}`, { token: manager }), (r) => r.status === 200 && ok(r.body), 300); // eslint-disable-line @typescript-eslint/no-explicit-any
      const event = async (token: string, step: string, body: Record<string, unknown>) => {
        const r = await sys.request('POST', `/v1/dossiers/${code}/events`, { token, body: { ...body, eventId: `${code}:${step}` } });
        expect(r.status).toBe(200);
      };
      const waiting = await read((v) => v.status === 'awaiting_pickup' && v.job !== null && v.fees.paidVnd > 0);
      await event(courier(waiting.body.job.courierId), 'picked-up', { type: 'courier.picked_up' });
      await event(agency, 'received', { type: 'agency.received', receiptNo: 'BN-1' });
      await event(agency, 'completed', { type: 'agency.completed', outcome: 'approved', resultRef: 'KQ-1' });
      const out = await read((v) => v.status === 'out_for_delivery' && v.job !== null);
      await event(courier(out.body.job.courierId), 'delivered', { type: 'courier.delivery_attempted', outcome: 'delivered', recipient: SELF });
      // The journey's last effects run after the answer: wait until its commands stop.
      let seen = -1;
      while (seen !== total(counts)) {
        seen = total(counts);
        await new Promise((r) => setTimeout(r, 1500));
      }
      const byActivity = new Map<string, number>();
      for (const [k, n] of counts) byActivity.set(k.split(' ')[0]!, (byActivity.get(k.split(' ')[0]!) ?? 0) + n);
      console.log(`read-model commands for one journey: ${total(counts)}\n${[...counts].sort().map(([k, n]) => `  ${k}: ${n}`).join('\n')}\nby activity: ${JSON.stringify(Object.fromEntries(byActivity))}`);
      // A projection: its deadlines in one command, their change records in one, the dossier in one
      // (2 per deadline + 1 before batching); the list day and hour once per hour and process besides.
      const projections = counts.get('projectDossier dossiers.update') ?? 0;
      expect(projections).toBeGreaterThan(0);
      const listRecords = ['dossier_days', 'dossier_hours', 'read_model_meta'].flatMap((c) => [...counts].filter(([k]) => k.startsWith(`projectDossier ${c}.`))).reduce((n, [, x]) => n + x, 0);
      expect(listRecords).toBeLessThanOrEqual(3);
      expect(byActivity.get('projectDossier')! - listRecords).toBeLessThanOrEqual(3 * projections);
      // A courier job is inserted without reading first; the read is for a retry's duplicate key.
      expect(counts.get('dispatchCourier courier_jobs.find')).toBeUndefined();
    } finally {
      await sys.stop();
      await workerMongo.close();
    }
  }, 120_000);
});
