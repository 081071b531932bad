import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../api/app';
import { STATUS_LABELS } from '../../api/routes/track';
import { formatInstant, parseInstant } from '../../domain/calendar';
import { STATUSES } from '../../domain/dossier';
import { backfillListKeys, LIST_KEY_FIELDS, listKeys, recordListDay } from '../../store/dossier-list';
import { findDossier, type DossierDoc } from '../../store/read-model';
import { submission } from '../support/fixtures';
import { pollUntil } from '../support/poll';
import { JWT_SECRET, System } from '../support/system';

let sys: System;
beforeAll(async () => {
  sys = await System.start('listing');
});
afterAll(async () => {
  await sys?.stop();
});

const recent = () => formatInstant(Date.now() - 60_000);

/** Submits one dossier and waits until the read model has it. */
async function submitted(overrides: Parameters<typeof submission>[0] = {}) {
  const body = submission({ submittedAt: recent(), ...overrides });
  const res = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body });
  expect(res.status).toBe(201);
  const doc = await pollUntil(
    () => sys.db.collection<DossierDoc>('dossiers').findOne({ _id: body.code }),
    (d) => d !== null,
  );
  return { body, doc: doc! };
}

describe('GET /v1/dossiers', () => {
  let template: DossierDoc;
  /** The expected order of agency LIST-A: newest submittedAt first, ties by code descending. */
  const listA: string[] = [];

  beforeAll(async () => {
      // As readers get it (the view a document), written back below in the older stored form readers still take.
    template = (await findDossier(sys.db, (await submitted()).body.code))!;
    const at = (s: string) => new Date(parseInstant(s));
    const docs: DossierDoc[] = [];
    const add = (code: string, agencyId: string, submittedAt: string, status: DossierDoc['status'] = 'processing', procedureCode = '1.001234') => {
      docs.push({
        ...template,
        _id: code,
        agencyId,
        status,
        procedureCode,
        submittedAt: at(submittedAt),
        ...listKeys({ agencyId, status, procedureCode, submittedAt: at(submittedAt) }),
        view: { ...template.view, code, agencyId, status, procedureCode, submittedAt },
      });
    };
    // 23 dossiers of LIST-A over several days, three of them at the same instant.
    for (let i = 0; i < 20; i++) add(`LA-${String(i).padStart(2, '0')}`, 'LIST-A', formatInstant(parseInstant('2026-01-10T08:00:00+07:00') + i * 3_600_000), i % 2 ? 'processing' : 'delivered');
    for (const c of ['LA-T1', 'LA-T2', 'LA-T3']) add(c, 'LIST-A', '2026-01-10T12:30:00+07:00', 'processing', '2.000488');
    // Day boundaries (local dates, +07:00).
    add('LB-EARLY', 'LIST-B', '2026-01-05T00:00:00+07:00');
    add('LB-LATE', 'LIST-B', '2026-01-05T23:59:59+07:00');
    add('LB-BEFORE', 'LIST-B', '2026-01-04T23:59:59+07:00');
    add('LB-AFTER', 'LIST-B', '2026-01-06T00:00:00+07:00');
    for (const d of docs) await recordListDay(sys.db, d.submittedAt);
    await sys.db.collection<DossierDoc>('dossiers').insertMany(docs);
    listA.push(
      ...docs
        .filter((d) => d.agencyId === 'LIST-A')
        .sort((a, b) => b.submittedAt.getTime() - a.submittedAt.getTime() || (a._id < b._id ? 1 : -1))
        .map((d) => d._id),
    );
  });

  test('pages newest first with a stable cursor; default limit 20', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Awaited<ReturnType<System['request']>> = await sys.request('GET', `/v1/dossiers?agencyId=LIST-A&limit=7${cursor ? `&cursor=${cursor}` : ''}`, { token: sys.token('manager') });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...res.body.items.map((i: { code: string }) => i.code));
      cursor = res.body.nextCursor;
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(4);
    expect(seen).toEqual(listA);

    const first = await sys.request('GET', '/v1/dossiers?agencyId=LIST-A', { token: sys.token('admin') });
    expect(first.body.items).toHaveLength(20);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const exact = await sys.request('GET', '/v1/dossiers?agencyId=LIST-A&limit=23', { token: sys.token('admin') });
    expect(exact.body.items).toHaveLength(23);
    expect(exact.body.nextCursor).toBeNull();
  });

  test('filters by status, procedure and inclusive local dates', async () => {
    const delivered = await sys.request('GET', '/v1/dossiers?agencyId=LIST-A&status=delivered&limit=100', { token: sys.token('manager') });
    expect(delivered.body.items).toHaveLength(10);
    expect(delivered.body.items.every((i: { status: string }) => i.status === 'delivered')).toBe(true);
    const byProcedure = await sys.request('GET', '/v1/dossiers?agencyId=LIST-A&procedureCode=2.000488', { token: sys.token('manager') });
    expect(byProcedure.body.items.map((i: { code: string }) => i.code)).toEqual(['LA-T3', 'LA-T2', 'LA-T1']);
    const day = await sys.request('GET', '/v1/dossiers?agencyId=LIST-B&from=2026-01-05&to=2026-01-05', { token: sys.token('manager') });
    expect(day.status).toBe(200);
    expect(day.body.items.map((i: { code: string }) => i.code)).toEqual(['LB-LATE', 'LB-EARLY']);
    const from = await sys.request('GET', '/v1/dossiers?agencyId=LIST-B&from=2026-01-05', { token: sys.token('manager') });
    expect(from.body.items.map((i: { code: string }) => i.code)).toEqual(['LB-AFTER', 'LB-LATE', 'LB-EARLY']);
  });

  test('an agency sees only its own, whatever agencyId it asks for; personal data masked', async () => {
    const own = await sys.request('GET', '/v1/dossiers?limit=100', { token: sys.token('agency', { agencyId: 'LIST-B' }) });
    expect(own.status).toBe(200);
    expect(own.body.items.map((i: { code: string }) => i.code).sort()).toEqual(['LB-AFTER', 'LB-BEFORE', 'LB-EARLY', 'LB-LATE']);
    const forced = await sys.request('GET', '/v1/dossiers?agencyId=LIST-A&limit=100', { token: sys.token('agency', { agencyId: 'LIST-B' }) });
    expect(forced.body.items.every((i: { agencyId: string }) => i.agencyId === 'LIST-B')).toBe(true);
    const text = JSON.stringify(own.body);
    expect(text).not.toContain('022080001234');
    expect(text).not.toContain('0912345678');
    const admin = await sys.request('GET', '/v1/dossiers?agencyId=LIST-B&limit=1', { token: sys.token('admin') });
    expect(admin.body.items[0].applicant.phone).toBe('0912345678');
  });

  test('roles and invalid query parameters', async () => {
    expect((await sys.request('GET', '/v1/dossiers')).status).toBe(401);
    for (const token of [sys.token('portal'), sys.token('clerk'), sys.token('courier', { courierId: 'HL-BT01' })]) {
      expect((await sys.request('GET', '/v1/dossiers', { token })).status).toBe(403);
    }
    const cases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['from=2026-13-01', 'from'],
      ['to=yesterday', 'to'],
      ['from=2026-01-06&to=2026-01-05', 'to'],
      ['status=lost', 'status'],
      ['cursor=not-a-cursor', 'cursor'],
      ['cursor=%25%25', 'cursor'],
      ['sort=asc', 'sort'],
      ['status=processing&status=delivered', 'status'],
    ];
    for (const [query, path] of cases) {
      const res = await sys.request('GET', `/v1/dossiers?${query}`, { token: sys.token('manager') });
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.errors.length).toBeGreaterThan(0);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });
});

describe('GET /v1/dossiers across days (issue #10: pages walk day buckets by indexed equality)', () => {
  /** LIST-C: 31 dossiers over 40 days with empty days between, some at one instant, two statuses, two procedures. */
  const docs: DossierDoc[] = [];
  const newestFirst = (a: DossierDoc, b: DossierDoc) => b.submittedAt.getTime() - a.submittedAt.getTime() || (a._id < b._id ? 1 : -1);

  beforeAll(async () => {
    const template = (await findDossier(sys.db, (await submitted()).body.code))!;
    const start = parseInstant('2025-11-01T07:30:00+07:00');
    for (let i = 0; i < 31; i++) {
      // Days 0, 1, 3, 6, 10, … (gaps grow), several dossiers on some days, three at one instant on day 0.
      const day = Math.round((i * i) / 24);
      const at = new Date(i < 3 ? start : start + day * 86_400_000 + (i % 5) * 3_600_000 + i * 1000);
      const code = `LC-${String(i).padStart(2, '0')}`;
      const status: DossierDoc['status'] = i % 3 ? 'delivered' : 'processing';
      const procedureCode = i % 4 ? '1.001234' : '2.000488';
      const submittedAt = formatInstant(at.getTime());
      docs.push({
        ...template,
        _id: code,
        agencyId: 'LIST-C',
        status,
        procedureCode,
        submittedAt: at,
        ...listKeys({ agencyId: 'LIST-C', status, procedureCode, submittedAt: at }),
        view: { ...template.view, code, agencyId: 'LIST-C', status, procedureCode, submittedAt },
      });
    }
    // Ten of them written before the list keys existed: the startup backfill gives them their keys.
    const old = docs.slice(10, 20).map((d) => {
      const o: Partial<DossierDoc> = { ...d };
      for (const f of LIST_KEY_FIELDS) delete o[f];
      return o as DossierDoc;
    });
    for (const d of [...docs.slice(0, 10), ...docs.slice(20)]) await recordListDay(sys.db, d.submittedAt);
    await sys.db.collection<DossierDoc>('dossiers').insertMany([...docs.slice(0, 10), ...old, ...docs.slice(20)]);
    await sys.db.collection('read_model_meta').deleteOne({ _id: 'listKeys' as never });
    expect(await backfillListKeys(sys.db)).toBeGreaterThanOrEqual(10);
    expect(await backfillListKeys(sys.db)).toBe(0); // done once: the marker
  });

  async function walk(query: string, limit: number, token = sys.token('manager')): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const res: Awaited<ReturnType<System['request']>> = await sys.request('GET', `/v1/dossiers?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { token });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      // A page is full unless it is the last.
      if (res.body.nextCursor) expect(res.body.items).toHaveLength(limit);
      seen.push(...res.body.items.map((i: { code: string }) => i.code));
      cursor = res.body.nextCursor;
      if (!cursor) return seen;
    }
    throw new Error('more than 50 pages');
  }

  test('every filter pages newest first across days, without duplicates or gaps', async () => {
    const expected = (keep: (d: DossierDoc) => boolean) => docs.filter(keep).sort(newestFirst).map((d) => d._id);
    expect(await walk('agencyId=LIST-C', 4)).toEqual(expected(() => true));
    expect(await walk('agencyId=LIST-C&status=processing', 3)).toEqual(expected((d) => d.status === 'processing'));
    expect(await walk('agencyId=LIST-C&procedureCode=2.000488', 2)).toEqual(expected((d) => d.procedureCode === '2.000488'));
    expect(await walk('status=delivered', 5, sys.token('agency', { agencyId: 'LIST-C' }))).toEqual(expected((d) => d.status === 'delivered'));
    // The whole office within LIST-C's days (other tests' dossiers are elsewhere in time): hour buckets.
    const within = await walk('from=2025-11-01&to=2025-12-10', 6);
    expect(within).toEqual(expected(() => true));
    const range = await walk('agencyId=LIST-C&from=2025-11-04&to=2025-11-12', 2);
    const lo = parseInstant('2025-11-04T00:00:00+07:00');
    const hi = parseInstant('2025-11-13T00:00:00+07:00');
    expect(range).toEqual(expected((d) => d.submittedAt.getTime() >= lo && d.submittedAt.getTime() < hi));
    expect(range.length).toBeGreaterThan(2);
  });

  test('a dossier that changes status moves to its new bucket', async () => {
    const moved = docs.find((d) => d.status === 'processing' && d._id !== 'LC-00')!;
    const keys = listKeys({ ...moved, status: 'closed' });
    await sys.db.collection<DossierDoc>('dossiers').updateOne({ _id: moved._id }, { $set: { status: 'closed', 'view.status': 'closed', ...keys } });
    try {
      expect(await walk('agencyId=LIST-C&status=closed', 10)).toEqual([moved._id]);
      expect(await walk('agencyId=LIST-C&status=processing', 10)).not.toContain(moved._id);
    } finally {
      await sys.db.collection<DossierDoc>('dossiers').updateOne({ _id: moved._id }, { $set: { status: moved.status, 'view.status': moved.status, ...listKeys(moved) } });
    }
  });
});

describe('GET /v1/courier/jobs', () => {
  test('the calling courier sees its open pickup job; others do not; other roles are refused', async () => {
    const { body } = await submitted();
    const courierIdOf = async () => (await sys.db.collection<{ dossierCode: string; courierId: string | null }>('courier_jobs').findOne({ dossierCode: body.code }))?.courierId;
    const assigned = await pollUntil(courierIdOf, (c) => typeof c === 'string');
    expect(assigned).toEqual(expect.any(String));
    const jobs = await pollUntil(
      () => sys.request('GET', '/v1/courier/jobs', { token: sys.token('courier', { courierId: assigned! }) }),
      (r) => r.body?.items?.some((j: { dossierCode: string }) => j.dossierCode === body.code),
    );
    expect(jobs.status).toBe(200);
    const job = jobs.body.items.find((j: { dossierCode: string }) => j.dossierCode === body.code);
    expect(job).toMatchObject({ dossierCode: body.code, purpose: 'pickup', attempt: 1, address: body.pickupAddress, createdAt: expect.stringMatching(/\+07:00$/) });

    const other = await sys.request('GET', '/v1/courier/jobs', { token: sys.token('courier', { courierId: 'NOBODY' }) });
    expect(other.status).toBe(200);
    expect(other.body.items).toEqual([]);
    expect((await sys.request('GET', '/v1/courier/jobs')).status).toBe(401);
    expect((await sys.request('GET', '/v1/courier/jobs', { token: sys.token('manager') })).status).toBe(403);
    expect((await sys.request('GET', '/v1/courier/jobs', { token: sys.token('admin') })).status).toBe(403);
  });
});

describe('GET /v1/track/{code}', () => {
  test('public status with labels, no personal data; wrong phone or unknown code 404', async () => {
    const { body } = await submitted();
    const res = await sys.request('GET', `/v1/track/${body.code}?phone=5678`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['code', 'nextDueAt', 'status', 'statusLabel', 'updatedAt']);
    expect(res.body.code).toBe(body.code);
    expect(STATUSES).toContain(res.body.status);
    expect(res.body.statusLabel).toEqual(STATUS_LABELS[res.body.status as keyof typeof STATUS_LABELS]);
    expect(res.body.nextDueAt).toEqual(expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/));
    const text = JSON.stringify(res.body);
    for (const personal of ['Nguyễn', '022080001234', '0912345678', 'Hồng Gai', 'Số 5', 'PAY-123']) expect(text).not.toContain(personal);

    const wrongPhone = await sys.request('GET', `/v1/track/${body.code}?phone=1234`);
    expect(wrongPhone.status).toBe(404);
    expect(wrongPhone.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const unknown = await sys.request('GET', '/v1/track/NO-SUCH-CODE?phone=5678');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(wrongPhone.body);
    expect((await sys.request('GET', `/v1/track/${body.code}`)).status).toBe(400);
    expect((await sys.request('GET', `/v1/track/${body.code}?phone=12`)).status).toBe(400);
    // A token does not matter either way.
    expect((await sys.request('GET', `/v1/track/${body.code}?phone=5678`, { token: 'garbage' })).status).toBe(200);
  });

  test('every status has a Vietnamese and an English label', () => {
    for (const s of STATUSES) {
      expect(STATUS_LABELS[s].vi.length).toBeGreaterThan(0);
      expect(STATUS_LABELS[s].en.length).toBeGreaterThan(0);
    }
  });

  test('rate limited per client IP: 429 problem+json with Retry-After', async () => {
    const app = createApp({
      temporal: sys.temporal,
      db: sys.db,
      jwtSecret: JWT_SECRET,
      taskQueue: 'unused',
      settings: { supplementRule: 'restart', classOneProvinces: [] },
      log: pino({ level: 'silent' }),
      trackRateLimitPerMinute: 3,
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/track/NO-SUCH-CODE?phone=1234`;
      // Seconds before a minute boundary the window could roll over mid-test; wait it out.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
      const statuses: number[] = [];
      let last!: Response;
      for (let i = 0; i < 5; i++) {
        last = await fetch(url);
        statuses.push(last.status);
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      expect(last.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(last.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(await last.json()).toMatchObject({ status: 429, type: '/problems/rate-limited' });
      // Other endpoints are not limited by it.
      expect((await fetch(url.replace(/\/v1\/track.*/, '/healthz'))).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
