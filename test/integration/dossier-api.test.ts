import { formatInstant } from '../../domain/calendar';
import { submission } from '../support/fixtures';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';

let sys: System;
beforeAll(async () => {
  sys = await System.start('api');
});
afterAll(async () => {
  await sys?.stop();
});

const recent = () => formatInstant(Date.now() - 60_000);

describe('submitting a dossier through HTTP', () => {
  test('201 with the registered dossier, readable back, the same submission again is 200, another payload 409', async () => {
    const body = submission({ procedureCode: '2.000488', agencyId: 'QN-STP', submittedAt: recent() });
    const created = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: body.code, status: 'submitted', agencyId: 'QN-STP', fees: { totalVnd: 242000 } });
    expect(created.body.deadlines).toEqual([expect.objectContaining({ stage: 'pickup', owner: 'post', state: 'open' })]);
    // The answer comes once the read model has the dossier: no lag for the caller's next read. Its effects
    // (the courier's dispatch) may already have moved it on: at least the answer's version.
    const projected = await sys.db.collection<{ status: string; agencyId: string; version: number }>('dossiers').findOne({ _id: body.code as never });
    expect(projected).toMatchObject({ agencyId: 'QN-STP' });
    expect(projected!.version).toBeGreaterThanOrEqual(created.body.version as number);
    expect(['submitted', 'awaiting_pickup']).toContain(projected!.status);

    const again = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body });
    expect(again.status).toBe(200);
    expect(again.body.code).toBe(body.code);

    const different = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body: { ...body, agencyId: 'HL-TNMT' } });
    expect(different.status).toBe(409);
    expect(different.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(different.body).toMatchObject({ status: 409, type: '/problems/duplicate-code' });

    const read = await sys.request('GET', `/v1/dossiers/${body.code}`, { token: sys.token('manager') });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ code: body.code, procedureCode: '2.000488' });
    // A manager sees no full ID number or phone.
    expect(JSON.stringify(read.body)).not.toContain('022080001234');
    expect(JSON.stringify(read.body)).not.toContain('0912345678');
  });

  test('a full lifecycle through the events endpoint, with refusals as problem+json', async () => {
    const body = submission({ procedureCode: '2.000720', agencyId: 'HL-UBND', services: { collect: false, deliver: true }, pickupAddress: undefined, delivery: { method: 'counter' }, payment: { method: 'cash' }, submittedAt: recent() });
    expect((await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body })).status).toBe(201);
    const agencyToken = sys.token('agency', { agencyId: 'HL-UBND' });
    const path = `/v1/dossiers/${body.code}/events`;

    // Another agency cannot even see it.
    const other = await sys.request('POST', path, { token: sys.token('agency', { agencyId: 'QN-STP' }), body: { type: 'agency.received' } });
    expect(other.status).toBe(404);
    // A courier may not report an agency event.
    const wrongRole = await sys.request('POST', path, { token: sys.token('courier', { courierId: 'HL-BT01' }), body: { type: 'agency.received' } });
    expect(wrongRole.status).toBe(403);
    // Completing before receiving does not fit the status.
    const early = await sys.request('POST', path, { token: agencyToken, body: { type: 'agency.completed', outcome: 'approved' } });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ type: '/problems/invalid-transition', status: 409 });

    const received = await sys.request('POST', path, { token: agencyToken, body: { type: 'agency.received', eventId: `${body.code}-rcv` } });
    expect(received.status).toBe(200);
    expect(received.body.status).toBe('processing');
    const repeated = await sys.request('POST', path, { token: agencyToken, body: { type: 'agency.received', eventId: `${body.code}-rcv` } });
    expect(repeated.status).toBe(200);
    expect(repeated.body.timeline.filter((t: { type: string }) => t.type === 'agency.received')).toHaveLength(1);

    const invalid = await sys.request('POST', path, { token: agencyToken, body: { type: 'agency.supplement_requested', reason: 'x', items: [] } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors).toEqual([expect.objectContaining({ path: 'items' })]);

    const completed = await sys.request('POST', path, { token: agencyToken, body: { type: 'agency.completed', outcome: 'rejected', reason: 'Thiếu giấy tờ' } });
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ status: 'result_ready', outcome: 'rejected' });

    const afterEnd = await sys.request('POST', path, { token: sys.token('portal'), body: { type: 'citizen.withdrawn', reason: 'changed my mind' } });
    expect(afterEnd.status).toBe(409);

    // The citizen is told the result waits at the counter; the read model follows within moments.
    const read = await pollUntil(
      () => sys.request('GET', `/v1/dossiers/${body.code}`, { token: agencyToken }),
      (r) => r.body.status === 'held_at_post_office',
    );
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('held_at_post_office');
    expect(read.body.deadlines.map((d: { stage: string; state: string }) => [d.stage, d.state])).toEqual([
      ['handoff', 'met_on_time'],
      ['processing', 'met_on_time'],
      ['delivery', 'met_on_time'],
    ]);
  });

  test('bad input never changes anything and never answers 5xx', async () => {
    const portal = sys.token('portal');
    const noAuth = await sys.request('POST', '/v1/dossiers', { body: submission() });
    expect(noAuth.status).toBe(401);
    const badToken = await sys.request('GET', '/v1/dossiers/X', { token: 'not-a-jwt' });
    expect(badToken.status).toBe(401);
    const forbidden = await sys.request('POST', '/v1/dossiers', { token: sys.token('manager'), body: submission() });
    expect(forbidden.status).toBe(403);
    const malformed = await sys.request('POST', '/v1/dossiers', { token: portal, body: '{"code": ' });
    expect(malformed).toMatchObject({ status: 400, body: { type: '/problems/malformed-json', detail: 'The body is not valid JSON' } });
    // Valid JSON, but not an object: the answer says so rather than calling it invalid.
    for (const primitive of ['1', '"x"', 'null', 'true']) {
      const notObject = await sys.request('POST', '/v1/dossiers', { token: portal, body: primitive });
      expect(notObject).toMatchObject({ status: 400, body: { type: '/problems/malformed-json', detail: 'The body must be a JSON object' } });
    }
    const wrongType = await sys.request('POST', '/v1/dossiers', { token: portal, body: 'code=1', headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(415);
    const huge = await sys.request('POST', '/v1/dossiers', { token: portal, body: { ...submission(), pad: 'x'.repeat(100_000) } });
    expect(huge.status).toBe(413);

    const sub = submission();
    const invalid = await sys.request('POST', '/v1/dossiers', {
      token: portal,
      body: { ...sub, services: { collect: true, deliver: false }, pickupAddress: undefined, applicant: { ...sub.applicant, phone: '123' } },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['applicant.phone', 'delivery', 'pickupAddress']);
    const unknownRefs = await sys.request('POST', '/v1/dossiers', { token: portal, body: { ...sub, procedureCode: 'nope', agencyId: 'nope' } });
    expect(unknownRefs.status).toBe(400);
    expect(unknownRefs.body.errors.map((e: { path: string }) => e.path)).toEqual(['procedureCode', 'agencyId']);
    const future = await sys.request('POST', '/v1/dossiers', { token: portal, body: { ...sub, submittedAt: formatInstant(Date.now() + 3600_000) } });
    expect(future.status).toBe(400);
    // None of them started a dossier.
    expect((await sys.request('GET', `/v1/dossiers/${sub.code}`, { token: portal })).status).toBe(404);
  });

  test('health and readiness', async () => {
    expect((await sys.request('GET', '/healthz')).status).toBe(200);
    const ready = await sys.request('GET', '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { temporal: 'ok', mongodb: 'ok' } });
  });

  test('Prometheus metrics count requests by route template and the Temporal calls behind them', async () => {
    const sub = submission();
    expect((await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body: sub })).status).toBe(201);
    await sys.request('GET', `/v1/dossiers/${sub.code}`, { token: sys.token('clerk') });
    await sys.request('GET', '/v1/no-such-route', { token: sys.token('clerk') });

    const res = await fetch(`${sys.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const sample = (name: string, labels: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((kv) => l.includes(kv)));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    expect(sample('http_requests_total', 'method="POST",route="/v1/dossiers",status="201"')).toBeGreaterThanOrEqual(1);
    // Raw paths never become labels: the code is in no series, the unknown path is "unmatched".
    expect(sample('http_requests_total', 'route="/v1/dossiers/:code",status="200"')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(sub.code);
    expect(sample('http_requests_total', 'route="unmatched",status="404"')).toBeGreaterThanOrEqual(1);
    expect(sample('temporal_client_calls_total', 'operation="startUpdate",outcome="ok"')).toBeGreaterThanOrEqual(1);
    // A submission is one call: the start with its registration update.
    expect(sample('temporal_client_calls_total', 'operation="startUpdateWithStart",outcome="ok"')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/temporal_client_call_duration_seconds_count\{operation="startUpdateWithStart"\} [1-9]/);
    expect(text).toContain('process_cpu_seconds_total');
  });
});
