import { dueDay, formatInstant } from '../../domain/calendar';
import { submission } from '../support/fixtures';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';

let sys: System;
beforeAll(async () => {
  sys = await System.start('refdata');
});
afterAll(async () => {
  await sys?.stop();
});

const admin = () => sys.token('admin');

describe('procedures', () => {
  const body = { name: 'Cấp giấy phép thử nghiệm', processingDays: 7, fees: [{ name: 'Lệ phí', amountVnd: 50000 }] };

  test('admin creates (201) and replaces (200); everyone authenticated reads; list includes it', async () => {
    const created = await sys.request('PUT', '/v1/procedures/9.999001', { token: admin(), body });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ code: '9.999001', ...body });
    const replaced = await sys.request('PUT', '/v1/procedures/9.999001', { token: admin(), body: { ...body, code: '9.999001', processingDays: 5 } });
    expect(replaced.status).toBe(200);
    for (const token of [sys.token('portal'), sys.token('agency', { agencyId: 'HL-TNMT' }), sys.token('courier', { courierId: 'HL-BT01' }), sys.token('clerk')]) {
      const one = await sys.request('GET', '/v1/procedures/9.999001', { token });
      expect(one.status).toBe(200);
      expect(one.body).toEqual({ code: '9.999001', ...body, processingDays: 5 });
    }
    const list = await sys.request('GET', '/v1/procedures', { token: sys.token('manager') });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ code: '9.999001' }), expect.objectContaining({ code: '1.001234' })]));
  });

  test('401 without a token, 403 for non-admin writes, 404 unknown, 400 invalid bodies and path/body mismatch', async () => {
    expect((await sys.request('GET', '/v1/procedures')).status).toBe(401);
    expect((await sys.request('GET', '/v1/procedures/1.001234')).status).toBe(401);
    const forbidden = await sys.request('PUT', '/v1/procedures/9.999002', { token: sys.token('manager'), body });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await sys.request('GET', '/v1/procedures/9.999002', { token: admin() })).status).toBe(404);

    const mismatch = await sys.request('PUT', '/v1/procedures/9.999002', { token: admin(), body: { ...body, code: '9.999003' } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors).toEqual([expect.objectContaining({ path: 'code' })]);
    const invalid = await sys.request('PUT', '/v1/procedures/9.999002', { token: admin(), body: { ...body, processingDays: -1, fees: [{ name: '', amountVnd: 1.5 }], extra: 1 } });
    expect(invalid.status).toBe(400);
    const paths = invalid.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['processingDays', 'fees.0.name', 'fees.0.amountVnd']));
    const malformed = await sys.request('PUT', '/v1/procedures/9.999002', { token: admin(), body: '{not json' });
    expect(malformed.status).toBe(400);
    expect((await sys.request('GET', '/v1/procedures/9.999002', { token: admin() })).status).toBe(404);
  });
});

describe('agencies', () => {
  test('webhook or manual handoff; validation; roles', async () => {
    const body = { name: 'Sở Thử nghiệm', province: 'Quảng Ninh', district: 'Hạ Long', handoff: { mode: 'webhook', url: 'https://agency.example/handoff' } };
    expect((await sys.request('PUT', '/v1/agencies/T-AG1', { token: admin(), body })).status).toBe(201);
    const manual = await sys.request('PUT', '/v1/agencies/T-AG1', { token: admin(), body: { ...body, id: 'T-AG1', handoff: { mode: 'manual' } } });
    expect(manual.status).toBe(200);
    const read = await sys.request('GET', '/v1/agencies/T-AG1', { token: sys.token('portal') });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ id: 'T-AG1', ...body, handoff: { mode: 'manual' } });
    const list = await sys.request('GET', '/v1/agencies', { token: sys.token('courier', { courierId: 'HL-BT01' }) });
    expect(list.status).toBe(200);
    expect(list.body.items.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining(['T-AG1', 'HL-TNMT']));

    const badUrl = await sys.request('PUT', '/v1/agencies/T-AG2', { token: admin(), body: { ...body, handoff: { mode: 'webhook', url: 'ftp://x' } } });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.errors[0].path).toBe('handoff.url');
    const badMode = await sys.request('PUT', '/v1/agencies/T-AG2', { token: admin(), body: { ...body, handoff: { mode: 'fax' } } });
    expect(badMode.status).toBe(400);
    const mismatch = await sys.request('PUT', '/v1/agencies/T-AG2', { token: admin(), body: { ...body, id: 'OTHER' } });
    expect(mismatch.status).toBe(400);
    expect((await sys.request('PUT', '/v1/agencies/T-AG2', { token: sys.token('agency', { agencyId: 'T-AG2' }), body })).status).toBe(403);
    expect((await sys.request('GET', '/v1/agencies/T-AG2', { token: admin() })).status).toBe(404);
    expect((await sys.request('GET', '/v1/agencies')).status).toBe(401);
  });
});

describe('couriers', () => {
  test('admin writes; only managers and admins read', async () => {
    const body = { name: 'Bưu tá Thử', province: 'Quảng Ninh', district: 'Cẩm Phả', wards: [] };
    expect((await sys.request('PUT', '/v1/couriers/T-BT1', { token: admin(), body })).status).toBe(201);
    const read = await sys.request('GET', '/v1/couriers/T-BT1', { token: sys.token('manager') });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ id: 'T-BT1', ...body });
    const list = await sys.request('GET', '/v1/couriers', { token: admin() });
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['T-BT1', 'HL-BT01']));
    for (const token of [sys.token('portal'), sys.token('clerk'), sys.token('agency', { agencyId: 'HL-TNMT' }), sys.token('courier', { courierId: 'T-BT1' })]) {
      expect((await sys.request('GET', '/v1/couriers', { token })).status).toBe(403);
      expect((await sys.request('GET', '/v1/couriers/T-BT1', { token })).status).toBe(403);
    }
    expect((await sys.request('PUT', '/v1/couriers/T-BT1', { token: sys.token('manager'), body })).status).toBe(403);
    const noWards = await sys.request('PUT', '/v1/couriers/T-BT2', { token: admin(), body: { name: 'x', province: 'y', district: 'z' } });
    expect(noWards.status).toBe(400);
    expect(noWards.body.errors).toEqual([expect.objectContaining({ path: 'wards' })]);
    expect((await sys.request('GET', '/v1/couriers/nope', { token: admin() })).status).toBe(404);
    expect((await sys.request('GET', '/v1/couriers/bad%20id', { token: admin() })).status).toBe(404);
    const badId = await sys.request('PUT', '/v1/couriers/bad%20id', { token: admin(), body });
    expect(badId.status).toBe(400);
    expect(badId.body.errors).toEqual([expect.objectContaining({ path: 'id' })]);
  });
});

describe('tariffs', () => {
  test('read by all authenticated, written by admin, validated', async () => {
    const current = await sys.request('GET', '/v1/tariffs', { token: sys.token('portal') });
    expect(current.status).toBe(200);
    expect(current.body.pickup).toEqual({ sameDistrict: 20000, sameProvince: 25000, interProvince: 35000 });
    const next = { ...current.body, redelivery: { sameDistrict: 16000, sameProvince: 19000, interProvince: 26000 } };
    expect((await sys.request('PUT', '/v1/tariffs', { token: sys.token('manager'), body: next })).status).toBe(403);
    const put = await sys.request('PUT', '/v1/tariffs', { token: admin(), body: next });
    expect(put.status).toBe(200);
    expect((await sys.request('GET', '/v1/tariffs', { token: sys.token('courier', { courierId: 'HL-BT01' }) })).body).toEqual(next);
    const invalid = await sys.request('PUT', '/v1/tariffs', { token: admin(), body: { ...next, delivery: { sameDistrict: -1, sameProvince: 1 } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['delivery.sameDistrict', 'delivery.interProvince']));
    expect((await sys.request('GET', '/v1/tariffs')).status).toBe(401);
    // Put back, so the rest of the file prices as shipped.
    expect((await sys.request('PUT', '/v1/tariffs', { token: admin(), body: current.body })).status).toBe(200);
  });
});

describe('working calendar', () => {
  test('read by all, validated with the calendar rules, year must match the path', async () => {
    const y2026 = await sys.request('GET', '/v1/calendar/2026', { token: sys.token('clerk') });
    expect(y2026.status).toBe(200);
    expect(y2026.body).toMatchObject({ year: 2026, holidays: expect.any(Array), workingDays: expect.any(Array) });
    expect((await sys.request('GET', '/v1/calendar/1999', { token: admin() })).status).toBe(404);
    expect((await sys.request('GET', '/v1/calendar/2026')).status).toBe(401);

    const outside = await sys.request('PUT', '/v1/calendar/2030', { token: admin(), body: { holidays: ['2031-01-01'], workingDays: [] } });
    expect(outside.status).toBe(400);
    expect(outside.body.errors).toEqual([expect.objectContaining({ path: 'holidays.0' })]);
    const both = await sys.request('PUT', '/v1/calendar/2030', { token: admin(), body: { holidays: ['2030-01-05'], workingDays: ['2030-01-05'] } });
    expect(both.status).toBe(400);
    const badDate = await sys.request('PUT', '/v1/calendar/2030', { token: admin(), body: { holidays: ['2030-02-30'], workingDays: [] } });
    expect(badDate.status).toBe(400);
    const mismatch = await sys.request('PUT', '/v1/calendar/2030', { token: admin(), body: { year: 2031, holidays: [], workingDays: [] } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors).toEqual([expect.objectContaining({ path: 'year' })]);
    expect((await sys.request('PUT', '/v1/calendar/2030', { token: sys.token('manager'), body: { holidays: [], workingDays: [] } })).status).toBe(403);

    const put = await sys.request('PUT', '/v1/calendar/2030', { token: admin(), body: { year: 2030, holidays: ['2030-09-02', '2030-01-01'], workingDays: [] } });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ year: 2030, holidays: ['2030-01-01', '2030-09-02'], workingDays: [] });
    const read = await sys.request('GET', '/v1/calendar/2030', { token: sys.token('portal') });
    expect(read.body).toEqual({ year: 2030, holidays: ['2030-01-01', '2030-09-02'], workingDays: [] });
  });

  test('a holiday added later moves the open deadlines of running dossiers', async () => {
    const body = submission({ submittedAt: formatInstant(Date.now() - 60_000) });
    const created = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body });
    expect(created.status).toBe(201);
    const dueBefore: string = created.body.deadlines[0].dueAt;
    const day = dueDay(dueBefore);
    const year = Number(day.slice(0, 4));
    const cal = await sys.request('GET', `/v1/calendar/${year}`, { token: admin() });
    const existing = cal.status === 200 ? cal.body : { holidays: [], workingDays: [] };
    const put = await sys.request('PUT', `/v1/calendar/${year}`, {
      token: admin(),
      body: { year, holidays: [...existing.holidays, day], workingDays: existing.workingDays.filter((d: string) => d !== day), ...(existing.note ? { note: existing.note } : {}) },
    });
    expect([200, 201]).toContain(put.status);
    // Announced to the running dossiers by one batch signal the server carries out.
    expect(put.body.calendarChange).toEqual({ batchJobId: expect.stringMatching(new RegExp(`^calendar-${year}-`)), runningDossiers: expect.any(Number) });
    expect(put.body.calendarChange.runningDossiers).toBeGreaterThanOrEqual(1);

    const read = await pollUntil(
      () => sys.request('GET', `/v1/dossiers/${body.code}`, { token: admin() }),
      (r) => r.body?.deadlines?.[0]?.dueAt !== dueBefore,
    );
    expect(Date.parse(read.body.deadlines[0].dueAt)).toBeGreaterThan(Date.parse(dueBefore));
    // Put the year back as it was.
    if (cal.status === 200) await sys.request('PUT', `/v1/calendar/${year}`, { token: admin(), body: cal.body });
  });
});
