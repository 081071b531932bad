/**
 * Property tests of every write endpoint's body and path, and of every query
 * parameter the OpenAPI document lists: whatever a client
 * sends that the contract refuses gets a 4xx problem+json (naming the fields
 * when it is a validation error), never a 5xx, and changes nothing: neither the
 * dossier (its workflow and its view) nor any collection of the read model.
 *
 * Reproduce a failure with the seed the message prints: FC_SEED=<seed> npx jest test/integration/fuzzing.test.ts
 */
import fc from 'fast-check';
import type { Document } from 'mongodb';
import { openApiDocument } from '../../api/openapi';
import { addCalendarDays, formatInstant } from '../../domain/calendar';
import { EVENT_ROLES, type DossierEventType } from '../../domain/events';
import type { Role } from '../../domain/types';
import { awaitingAssignedPickup, expectProblem, snapshot, submitAndSettle, workflowView, type Answer } from '../support/api-checks';
import { HA_LONG_HOME, submission, uniqueCode } from '../support/fixtures';
import { anyJson, badDates, badInstants, invalidBodies, names, values, type BodySpec, type Json, type Mutation } from '../support/mutations';
import { SELF } from '../support/steps';
import { System } from '../support/system';

const SEED = Number(process.env.FC_SEED ?? 20260105);
const RUNS = Number(process.env.FC_RUNS ?? 40);
fc.configureGlobal({ seed: SEED, numRuns: RUNS });

let sys: System;
/** A dossier waiting for its assigned pickup courier: the events' target. */
let target: { code: string; courierId: string; agencyId: string };

beforeAll(async () => {
  sys = await System.start('fuzz');
  const sub = submission({ submittedAt: formatInstant(Date.now() - 60_000) });
  const view = await submitAndSettle(sys, sub, awaitingAssignedPickup);
  target = { code: sub.code, courierId: view.job!.courierId!, agencyId: sub.agencyId };
});
afterAll(async () => {
  await sys?.stop();
});

function tokenFor(role: Role): string {
  if (role === 'agency') return sys.token('agency', { agencyId: target.agencyId });
  if (role === 'courier') return sys.token('courier', { courierId: target.courierId });
  return sys.token(role);
}

/** The client's view of an answer to refused input: 4xx problem+json, never a 5xx. */
function expectRefused(res: Answer, status?: number): void {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expectProblem(res, status ?? res.status);
}

/** A refused body: 400 whose `errors[]` name the mutated field (or the object around it, or a field inside it). */
function expectInvalid(res: Answer, m: Mutation): void {
  expectProblem(res, 400);
  expect(res.body.type).toBe('/problems/validation');
  const paths = (res.body.errors as { path: string }[]).map((e) => e.path);
  expect({ mutation: describeMutation(m), paths, named: paths.some((p) => m.named.some((f) => names(p, f))) }).toEqual({ mutation: describeMutation(m), paths, named: true });
}

/**
 * Everything a request could change: every collection, and the target
 * dossier as its workflow and its GET view see it.
 */
async function state(): Promise<{ collections: Record<string, Document[]>; workflow: unknown; view: unknown }> {
  const [collections, wf, read] = await Promise.all([
    snapshot(sys.db),
    workflowView(sys, target.code),
    sys.request('GET', `/v1/dossiers/${target.code}`, { token: sys.token('admin') }),
  ]);
  return {
    collections,
    workflow: { version: wf?.version, status: wf?.status, timeline: wf?.timeline },
    view: { status: read.status, version: read.body?.version, timeline: read.body?.timeline },
  };
}

/** Runs the property and then checks it changed nothing at all. */
async function unchangedAfter<Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<Ts>): Promise<void> {
  const before = await state();
  await fc.assert(property);
  expect(await state()).toEqual(before);
}

const describeMutation = (m: Mutation) => `${m.kind} at ${m.path}`;

// ---------------------------------------------------------------------------
// Bodies.

const FUZZ_CODE = uniqueCode('FUZZ');
const text = (path: string, max: number): [string, number, boolean] => [path, max, true];
const address = (at: string) => ['line', 'ward', 'district', 'province'].map((f) => text(`${at}.${f}`, f === 'line' ? 200 : 100));
const badIdNumbers = fc.constantFrom('', '02208000123', '0220800012345', '02208000123X', '1234', 'AB', '022 080 001 234', '-22080001234');
const badPhones = fc.constantFrom('', '912345678', '09123456789', '091234567', '+8491234567', '+85912345678', '0912 345 678', '0912-345-678', 'O912345678', '84912345678');
const badCodes = fc.constantFrom('', 'a b', 'x/y', 'hồ-sơ', '../etc', 'A'.repeat(65), '<script>', 'code;drop', 'tab\tcode');
const badVnd = fc.constantFrom(-1, 0.5, 1_000_000_000_001, 1e300);

const SUBMISSION: BodySpec = {
  base: {
    ...(submission({ code: FUZZ_CODE, submittedAt: '2026-01-05T09:15:00+07:00' }) as unknown as Record<string, Json>),
    applicant: { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', phone: '0912345678', email: 'hoan@example.vn' },
  },
  optional: ['submittedAt', 'applicant.email'],
  limits: [text('procedureCode', 64), text('agencyId', 64), text('applicant.fullName', 200), ...address('pickupAddress'), ...address('delivery.address'), text('payment.reference', 100)],
  bad: [
    ['code', badCodes],
    ['applicant.idNumber', badIdNumbers],
    ['applicant.phone', badPhones],
    ['applicant.email', fc.constantFrom('', 'hoan', 'hoan@', '@example.vn', 'hoan example.vn', 'a@b')],
    ['submittedAt', fc.oneof(badInstants, fc.integer({ min: 1, max: 3650 }).map((d) => formatInstant(Date.now() + d * 86_400_000)))],
    // Cross-field rules: the field the rule names instead.
    ['services', fc.constantFrom({ collect: false, deliver: false }, { collect: false, deliver: true }, { collect: true, deliver: false }), ['services', 'pickupAddress', 'delivery']],
    ['delivery', values({ method: 'drone', address: HA_LONG_HOME }, { method: 'home' }, { method: 'counter', address: HA_LONG_HOME }, {})],
    ['payment', values({ method: 'card' }, { method: 'prepaid' }, { method: 'cash', reference: 'PAY-1' }, {})],
  ],
};

const envelope = ['eventId', 'occurredAt'];
const recipient = { fullName: 'Trần Thị B', idNumber: 'B1234567', relationship: 'proxy', authorizationRef: 'UQ-1' };
const EVENT_BASES: BodySpec[] = [
  { base: { type: 'courier.picked_up', collectedVnd: 0 }, optional: ['collectedVnd'], bad: [['collectedVnd', badVnd]] },
  { base: { type: 'courier.pickup_failed', reason: 'Không có người ở nhà' }, limits: [text('reason', 500)] },
  { base: { type: 'agency.received', receiptNo: 'BN-1' }, optional: ['receiptNo'], limits: [text('receiptNo', 100)] },
  {
    base: { type: 'agency.supplement_requested', reason: 'Thiếu giấy tờ', items: ['Bản sao CCCD'] },
    limits: [text('reason', 1000), text('items.0', 300)],
    bad: [['items', fc.constantFrom([], Array.from({ length: 51 }, (_, i) => `Giấy ${i}`))]],
  },
  { base: { type: 'citizen.supplement_provided', note: 'Đã nộp' }, optional: ['note'], limits: [text('note', 1000)] },
  { base: { type: 'agency.apologized', newDueDate: '2026-02-10', reason: 'Quá tải' }, limits: [text('reason', 1000)], bad: [['newDueDate', badDates]] },
  {
    base: { type: 'agency.completed', outcome: 'rejected', resultRef: 'KQ-1', reason: 'Thiếu giấy tờ' },
    optional: ['resultRef'],
    limits: [text('resultRef', 200), text('reason', 1000)],
    bad: [['outcome', fc.constantFrom('', 'approve', 'APPROVED', 'maybe')]],
  },
  {
    base: { type: 'courier.delivery_attempted', outcome: 'delivered', recipient, note: 'Giao tận tay', collectedVnd: 0 },
    optional: ['note', 'collectedVnd', 'recipient.authorizationRef'],
    limits: [text('note', 1000), text('recipient.fullName', 200), text('recipient.authorizationRef', 100)],
    bad: [
      ['recipient.relationship', fc.constantFrom('', 'friend', 'SELF')],
      ['recipient.idNumber', badIdNumbers],
      ['collectedVnd', badVnd],
    ],
  },
  {
    base: { type: 'courier.delivery_attempted', outcome: 'failed', reason: 'not_home' },
    bad: [['reason', fc.constantFrom('', 'lost', 'NOT_HOME', 'not home')]],
  },
  { base: { type: 'counter.collected', recipient: SELF }, bad: [['recipient.idNumber', badIdNumbers]] },
  { base: { type: 'citizen.redelivery_requested', note: 'Giao lại' }, optional: ['note'], limits: [text('note', 1000)] },
  { base: { type: 'citizen.withdrawn', reason: 'Đổi ý' }, limits: [text('reason', 1000)] },
];
const EVENTS: BodySpec[] = EVENT_BASES.map((spec) => ({
  ...spec,
  base: { ...spec.base, eventId: 'fuzz-event-1', occurredAt: '2026-01-05T09:15:00+07:00' },
  optional: [...(spec.optional ?? []), ...envelope],
  bad: [
    ...(spec.bad ?? []),
    ['type', fc.constantFrom('', 'agency.deleted', 'AGENCY.RECEIVED', 'courier.picked_up ', 'system.payment_captured')],
    ['eventId', fc.constantFrom('', 'has space', 'x'.repeat(129), 'mã-sự-kiện', 'a/b', 'a?b')],
    ['occurredAt', badInstants],
  ],
}));

const fees = { name: 'Lệ phí', amountVnd: 50000 };
const charges = { sameDistrict: 20000, sameProvince: 25000, interProvince: 35000 };

/** The reference-data PUTs, each at an id that exists, so a body that got through would show as a change. */
const PUTS: { name: string; path: string; spec: BodySpec }[] = [
  {
    name: 'PUT /v1/procedures/{id}',
    path: '/v1/procedures/1.001234',
    spec: {
      base: { code: '1.001234', name: 'Thủ tục thử', processingDays: 7, fees: [fees] },
      optional: ['code'],
      limits: [text('name', 300), text('fees.0.name', 200)],
      bad: [
        ['code', badCodes],
        ['processingDays', fc.constantFrom(-1, 366, 1.5, 1e9)],
        ['fees.0.amountVnd', badVnd],
        ['fees', fc.constant(Array.from({ length: 51 }, () => fees))],
      ],
    },
  },
  {
    name: 'PUT /v1/agencies/{id}',
    path: '/v1/agencies/HL-TNMT',
    spec: {
      base: { id: 'HL-TNMT', name: 'Cơ quan thử', province: 'Quảng Ninh', district: 'Hạ Long', handoff: { mode: 'webhook', url: 'https://agency.example/handoff' } },
      optional: ['id'],
      limits: [text('name', 300), text('province', 100), text('district', 100)],
      bad: [
        ['id', badCodes],
        ['handoff', values({ mode: 'fax' }, { mode: 'webhook' }, { mode: 'manual', url: 'https://x.example' }, {})],
        ['handoff.url', fc.constantFrom('', 'ftp://agency.example', 'javascript:alert(1)', 'not a url', 'agency.example/handoff', `https://a.example/${'x'.repeat(2000)}`)],
      ],
    },
  },
  {
    name: 'PUT /v1/couriers/{id}',
    path: '/v1/couriers/HL-BT01',
    spec: {
      base: { id: 'HL-BT01', name: 'Bưu tá thử', province: 'Quảng Ninh', district: 'Hạ Long', wards: ['Hồng Gai'] },
      optional: ['id'],
      limits: [text('name', 200), text('province', 100), text('district', 100), text('wards.0', 100)],
      bad: [
        ['id', badCodes],
        ['wards', fc.constant(Array.from({ length: 201 }, (_, i) => `Phường ${i}`))],
      ],
    },
  },
  {
    name: 'PUT /v1/tariffs',
    path: '/v1/tariffs',
    spec: {
      base: { pickup: charges, delivery: charges, redelivery: charges },
      bad: (['pickup', 'delivery', 'redelivery'] as const).flatMap((s) =>
        (['sameDistrict', 'sameProvince', 'interProvince'] as const).map((r): [string, fc.Arbitrary<Json>] => [`${s}.${r}`, badVnd]),
      ),
    },
  },
  {
    name: 'PUT /v1/calendar/{year}',
    path: '/v1/calendar/2026',
    spec: {
      base: { year: 2026, holidays: ['2026-01-01', '2026-04-30'], workingDays: ['2026-01-10'], note: 'thử' },
      optional: ['year', 'note'],
      limits: [['note', 2000, false]],
      bad: [
        ['year', fc.constantFrom(2025, 2027, 2026.5, -2026, 0)],
        ['holidays.0', fc.oneof(badDates, fc.constantFrom('2025-01-01', '2027-01-01', '2026-01-10')), ['holidays.0', 'workingDays.0']],
        ['workingDays.0', fc.oneof(badDates, fc.constantFrom('2025-01-04', '2026-01-01'))],
        ['holidays', fc.constant(Array.from({ length: 367 }, () => '2026-01-01'))],
      ],
    },
  },
];

// ---------------------------------------------------------------------------

describe(`fuzzing the write endpoints (fast-check seed ${SEED}, ${RUNS} runs a property)`, () => {
  test('POST /v1/dossiers: a mutated submission is a 400 naming the field; no dossier starts', async () => {
    await unchangedAfter(
      fc.asyncProperty(invalidBodies(SUBMISSION), async (m) => {
        const res = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body: m.body });
        expectInvalid(res, m);
      }),
    );
    expect(await workflowView(sys, FUZZ_CODE)).toBeNull();
  });

  test('POST /v1/dossiers: a well-formed submission of an unknown procedure or agency is a 400 naming it', async () => {
    const unknownId = fc.string({ minLength: 1, maxLength: 20 }).map((s) => `NO-${s}`.trim());
    await unchangedAfter(
      fc.asyncProperty(fc.record({ field: fc.constantFrom('procedureCode', 'agencyId'), id: unknownId }), async ({ field, id }) => {
        const res = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body: { ...SUBMISSION.base, [field]: id } });
        expectProblem(res, 400);
        expect(res.body.errors).toEqual([expect.objectContaining({ path: field })]);
      }),
    );
    expect(await workflowView(sys, FUZZ_CODE)).toBeNull();
  });

  test('POST /v1/dossiers/{code}/events: a mutated event is a 400 naming the field; the dossier is unchanged', async () => {
    const cases = fc.constantFrom(...EVENTS).chain((spec) => invalidBodies(spec).map((m) => ({ ...m, type: spec.base.type as DossierEventType })));
    await unchangedAfter(
      fc.asyncProperty(cases, async (m) => {
        // The token of the role that reports this event, so validation is the only thing that refuses it.
        const res = await sys.request('POST', `/v1/dossiers/${target.code}/events`, { token: tokenFor(EVENT_ROLES[m.type]), body: m.body });
        expectInvalid(res, m);
      }),
    );
  });

  test('POST /v1/dossiers/{code}/events: an occurredAt in the future or before the previous event is a 400 naming it', async () => {
    const view = (await workflowView(sys, target.code))!;
    // The previous event reported to the dossier (its submission here); the workflow's own entries do not count.
    const lastEventAt = Math.max(...view.timeline.filter((t) => t.by.role !== 'system').map((t) => Date.parse(t.occurredAt)));
    const when = fc.oneof(
      fc.integer({ min: 6 * 60, max: 10 * 365 * 86_400 }).map((s) => Date.now() + s * 1000),
      fc.integer({ min: 1, max: 10 * 365 * 86_400 }).map((s) => lastEventAt - s * 1000),
    );
    await unchangedAfter(
      fc.asyncProperty(when, fc.constantFrom('courier.picked_up', 'courier.pickup_failed'), async (at, type) => {
        // Both events fit a dossier awaiting pickup: only the time refuses them.
        const body = { type, ...(type === 'courier.pickup_failed' ? { reason: 'Vắng nhà' } : {}), occurredAt: formatInstant(at) };
        const res = await sys.request('POST', `/v1/dossiers/${target.code}/events`, { token: tokenFor('courier'), body });
        expectProblem(res, 400);
        expect(res.body.errors).toEqual([expect.objectContaining({ path: 'occurredAt' })]);
      }),
    );
  });

  test.each(PUTS.map((p) => [p.name, p] as const))('%s: a mutated body is a 400 naming the field; nothing is written', async (_name, put) => {
    await unchangedAfter(
      fc.asyncProperty(invalidBodies(put.spec), async (m) => {
        const res = await sys.request('PUT', put.path, { token: sys.token('admin'), body: m.body });
        expectInvalid(res, m);
      }),
    );
  });

  /** Every write endpoint, with the token allowed to write there. */
  const WRITES: { name: string; path: () => string; token: () => string }[] = [
    { name: 'POST /v1/dossiers', path: () => '/v1/dossiers', token: () => sys.token('portal') },
    { name: 'POST /v1/dossiers/{code}/events', path: () => `/v1/dossiers/${target.code}/events`, token: () => tokenFor('courier') },
    ...PUTS.map((p) => ({ name: p.name, path: () => p.path, token: () => sys.token('admin') })),
  ];

  test('random JSON and random text to every write endpoint: 400, naming fields when it is JSON to validate', async () => {
    const bodies = fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 60 }), anyJson.map((v) => JSON.stringify(v)));
    await unchangedAfter(
      fc.asyncProperty(fc.constantFrom(...WRITES), bodies, async (w, raw) => {
        const res = await sys.request(w.name.split(' ')[0]!, w.path(), { token: w.token(), body: raw, headers: { 'content-type': 'application/json' } });
        expectProblem(res, 400);
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          parsed = undefined;
        }
        // Objects and arrays are parsed and validated; anything else is not a JSON body at all.
        if (typeof parsed === 'object' && parsed !== null) expect(res.body.type).toBe('/problems/validation');
      }),
    );
  });

  test('the same bodies through Content-Type other than JSON: 415, nothing parsed', async () => {
    await unchangedAfter(
      fc.asyncProperty(fc.constantFrom(...WRITES), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml'), async (w, type) => {
        const body = w.name.startsWith('POST /v1/dossiers/') ? JSON.stringify({ type: 'courier.picked_up' }) : JSON.stringify(SUBMISSION.base);
        const res = await sys.request(w.name.split(' ')[0]!, w.path(), { token: w.token(), body, headers: { 'content-type': type } });
        expectRefused(res, 415);
      }),
    );
  });

  test('a compressed body that does not decompress: 4xx, never 5xx', async () => {
    await unchangedAfter(
      fc.asyncProperty(fc.constantFrom(...WRITES), fc.constantFrom('gzip', 'deflate', 'br', 'compress'), fc.string({ maxLength: 60 }), async (w, encoding, raw) => {
        const res = await sys.request(w.name.split(' ')[0]!, w.path(), { token: w.token(), body: raw, headers: { 'content-type': 'application/json', 'content-encoding': encoding } });
        expectRefused(res);
      }),
    );
  });

  /** Path segments a client could send: odd text, traversal, and percent-encoding that does not decode. */
  const badSegments = fc.oneof(
    fc.string({ minLength: 1, maxLength: 70 }).filter((s) => !/^[A-Za-z0-9._-]{1,64}$/.test(s) && !/^\d{4}$/.test(s) && s !== '.' && s !== '..').map(encodeURIComponent),
    fc.constantFrom('%', '%E0%A4%A', '%zz', '%C0%AF', '%FF', '%00', '..%2F..%2Fetc', 'a%2Fb', 'A'.repeat(65), '%25'),
  );

  test('bad codes and ids in the path of every write endpoint: 4xx, never 5xx, nothing written', async () => {
    const targets = [
      { path: (s: string) => `/v1/dossiers/${s}/events`, method: 'POST', token: () => tokenFor('portal'), body: { type: 'citizen.withdrawn', reason: 'Đổi ý' } },
      { path: (s: string) => `/v1/procedures/${s}`, method: 'PUT', token: () => sys.token('admin'), body: { name: 'Thủ tục thử', processingDays: 7, fees: [] } },
      { path: (s: string) => `/v1/agencies/${s}`, method: 'PUT', token: () => sys.token('admin'), body: { name: 'Cơ quan', province: 'Quảng Ninh', district: 'Hạ Long', handoff: { mode: 'manual' } } },
      { path: (s: string) => `/v1/couriers/${s}`, method: 'PUT', token: () => sys.token('admin'), body: { name: 'Bưu tá', province: 'Quảng Ninh', district: 'Hạ Long', wards: [] } },
      { path: (s: string) => `/v1/calendar/${s}`, method: 'PUT', token: () => sys.token('admin'), body: { holidays: [], workingDays: [] } },
    ];
    await unchangedAfter(
      fc.asyncProperty(fc.constantFrom(...targets), badSegments, async (t, segment) => {
        const res = await sys.request(t.method, t.path(segment), { token: t.token(), body: t.body });
        expectRefused(res);
      }),
    );
  });
});

// ---------------------------------------------------------------------------
// Query strings, read from the served document: every GET with query parameters.

interface QueryParam {
  name: string;
  in: string;
  required: boolean;
  schema: { type?: string; enum?: string[]; minimum?: number; maximum?: number; format?: string };
}

const QUERY_ROUTES = Object.entries((openApiDocument() as { paths: Record<string, Record<string, { parameters?: QueryParam[] }>> }).paths)
  .map(([path, ops]) => ({ path, params: (ops.get?.parameters ?? []).filter((p) => p.in === 'query') }))
  // Tracking is public and rate limited per client: it has a test of its own below.
  .filter((r) => r.params.length && !r.path.includes('{'));

const day = fc.integer({ min: 0, max: 3 * 366 }).map((n) => addCalendarDays('2025-01-01', n));

/** A value the parameter's schema allows. */
function validValue(p: QueryParam): fc.Arbitrary<string> {
  if (p.schema.enum) return fc.constantFrom(...p.schema.enum);
  if (p.schema.type === 'integer') return fc.integer({ min: p.schema.minimum ?? 0, max: p.schema.maximum ?? 1000 }).map(String);
  if (p.schema.format === 'date') return day;
  if (p.name === 'cursor') return fc.constant(Buffer.from(JSON.stringify([Date.now(), 'X'])).toString('base64url'));
  return fc.string({ minLength: 1, maxLength: 20 }).filter((v) => v.trim().length > 0);
}

const badQueryValues = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', ' ', '-1', '0', '1.5', '1e3', '99999999', '0x10', 'NaN', 'null', '%00', '2026-02-30', '2026-13-01', '0001-01-01', '9999-12-31', '26-01-05', 'ab'.repeat(40)),
);

type QueryCase = { path: string; pairs: [string, string][]; mutated: string | null };

/** A query the document allows, or one with a single mutation: a bad value, an unknown or repeated parameter, a required one missing. */
const queryCases: fc.Arbitrary<QueryCase> = fc.constantFrom(...QUERY_ROUTES).chain(({ path, params }) =>
  fc
    .tuple(
      fc.tuple(...params.map((p) => fc.option(validValue(p), { nil: undefined, freq: p.required ? 1_000_000 : 2 }))),
      fc.constantFrom('none', 'bad', 'unknown', 'repeated', 'missing'),
      fc.constantFrom(...params),
      badQueryValues,
      fc.constantFrom('page', 'Limit', 'limits', 'from[]', 'q', 'sort', '__proto__', 'constructor'),
    )
    .map(([values, kind, target, bad, unknown]): QueryCase => {
      const chosen = new Map(params.flatMap((p, i) => (values[i] === undefined && !p.required ? [] : [[p.name, values[i] ?? '2026-01-05'] as [string, string]])));
      // A window in order and within the bound, so the unmutated query is one the server accepts.
      if (chosen.has('from') && chosen.has('to')) chosen.set('to', addCalendarDays(chosen.get('from')!, 30));
      const pairs = [...chosen.entries()];
      if (kind === 'bad') return { path, pairs: [...pairs.filter(([n]) => n !== target.name), [target.name, bad]], mutated: target.name };
      if (kind === 'unknown') return { path, pairs: [...pairs, [unknown, '1']], mutated: unknown };
      if (kind === 'repeated') return { path, pairs: [...pairs.filter(([n]) => n !== target.name), [target.name, 'a'], [target.name, 'b']], mutated: target.name };
      if (kind === 'missing' && target.required) return { path, pairs: pairs.filter(([n]) => n !== target.name), mutated: target.name };
      return { path, pairs, mutated: null };
    }),
);

describe(`fuzzing the query strings (fast-check seed ${SEED}, ${RUNS} runs a property)`, () => {
  test('every documented GET with query parameters: a valid query is 200, a mutated one 200 or a 400 naming the parameter; never a 5xx', async () => {
    expect(QUERY_ROUTES.map((r) => r.path).sort()).toEqual(['/v1/compliance/at-risk', '/v1/compliance/overdue', '/v1/compliance/snapshots', '/v1/compliance/summary', '/v1/dossiers']);
    await fc.assert(
      fc.asyncProperty(queryCases, async ({ path, pairs, mutated }) => {
        const url = `${path}?${new URLSearchParams(pairs).toString()}`;
        const started = Date.now();
        // Conformance (test/support/conformance.ts) checks the status, content type and body against the document.
        const res = await sys.request('GET', url, { token: sys.token('manager'), headers: { accept: 'application/json' } });
        expect({ url, fast: Date.now() - started < 5_000 }).toEqual({ url, fast: true });
        if (mutated === null) {
          expect({ url, status: res.status }).toEqual({ url, status: 200 });
          return;
        }
        // A mutation may still be a value the parameter allows (a filter text, a date in range).
        if (res.status === 200) return;
        const problem = expectProblem(res, 400);
        const paths = (problem.errors ?? []).map((e) => e.path);
        // Unknown parameters are named by the key; the window rule names `to`.
        expect({ url, named: paths.some((p) => p === mutated || p.startsWith(`${mutated}.`) || p === '(query)' || p === 'to') }).toEqual({ url, named: true });
      }),
    );
  });

  test('GET /v1/track/{code}: phone is the last 4 digits; anything else is a 400 naming it, never a 5xx', async () => {
    const phone = (await workflowView(sys, target.code))!.applicant.phone.slice(-4);
    const cases = fc.oneof(
      fc.constant({ value: phone, status: 200 }),
      fc.stringMatching(/^\d{4}$/).filter((v) => v !== phone).map((value) => ({ value, status: 404 })),
      badQueryValues.filter((v) => !/^\d{4}$/.test(v)).map((value) => ({ value, status: 400 })),
    );
    // Within the per-client tracking limit (30 a minute) of a fresh system.
    await fc.assert(
      fc.asyncProperty(cases, async ({ value, status }) => {
        const res = await sys.request('GET', `/v1/track/${target.code}?${new URLSearchParams({ phone: value })}`);
        expect({ value, status: res.status }).toEqual({ value, status });
        if (status === 400) expect(expectProblem(res, 400).errors).toEqual([expect.objectContaining({ path: 'phone' })]);
      }),
      { numRuns: Math.min(RUNS, 20) },
    );
  });
});
