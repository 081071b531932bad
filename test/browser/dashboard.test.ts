/**
 * The manager dashboard in a real headless Chromium against the whole system:
 * seeded deadline records with known figures, and one dossier submitted through
 * the API whose pickup is overdue, so its timeline is real.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { formatInstant, parseInstant } from '../../domain/calendar';
import { DASHBOARD_CSP } from '../../api/routes/dashboard';
import { STATUS_LABELS } from '../../api/routes/track';
import type { DossierStatus } from '../../domain/dossier';
import type { DeadlineDoc } from '../../store/read-model';
import { submission } from '../support/fixtures';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';
import { deadlineDoc } from '../support/compliance-figures';

const ROOT = path.resolve(__dirname, '..', '..');
const NOW = Date.now();
const HOUR = 3600_000;

/** CHROMIUM_PATH, else what `npm run provision` recorded. */
function chromiumPath(): string {
  let recorded: string | null = null;
  try {
    recorded = (JSON.parse(fs.readFileSync(path.join(ROOT, '.tools', 'paths.json'), 'utf8')) as { chromium?: string | null }).chromium ?? null;
  } catch {
    // reported below
  }
  const bin = process.env.CHROMIUM_PATH || recorded;
  if (!bin) throw new Error('Chromium is not provisioned: run `npm run provision` (apt-get install chromium) or set CHROMIUM_PATH');
  return bin;
}


// The figures of compliance-api.test.ts: due in January and February 2026 ...
const SEEDED = [
  deadlineDoc('DB-A', { state: 'met_on_time', dueAt: '2026-01-09T00:00:00+07:00', completedAt: new Date(parseInstant('2026-01-08T16:00:00+07:00')) }),
  deadlineDoc('DB-B', { stage: 'handoff', owner: 'post', state: 'met_late', dueAt: '2026-01-08T10:00:00+07:00', startedAt: '2026-01-06T09:00:00+07:00' }),
  deadlineDoc('DB-C', { agencyId: 'QN-STP', procedureCode: '2.000488', district: 'Cẩm Phả', state: 'overdue', dueAt: '2026-01-09T12:00:00+07:00' }),
  deadlineDoc('DB-D', { stage: 'delivery', owner: 'post', agencyId: 'QN-STP', procedureCode: '2.000488', district: 'Cẩm Phả', dueAt: '2026-01-10T00:00:00+07:00' }),
  deadlineDoc('DB-E', { stage: 'pickup', owner: 'post', state: 'met_on_time', dueAt: '2026-02-03T00:00:00+07:00', startedAt: '2026-02-02T08:00:00+07:00' }),
  deadlineDoc('DB-F', { agencyId: 'HL-UBND', procedureCode: '2.000720', state: 'overdue', dueAt: '2026-01-07T00:00:00+07:00', startedAt: '2026-01-02T11:00:00+07:00' }),
  // ... and open ones around now, for the at-risk window: 2 h (within 24 h) and 30 h (within 48 h only).
  deadlineDoc('DB-G', { dueAt: formatInstant(NOW + 2 * HOUR), startedAt: formatInstant(NOW - 48 * HOUR) }),
  deadlineDoc('DB-H', { stage: 'delivery', owner: 'post', dueAt: formatInstant(NOW + 30 * HOUR), startedAt: formatInstant(NOW - HOUR) }),
];

let sys: System;
let browser: Browser;
/** The real dossier: submitted in June 2025, so its pickup is long overdue and it heads the overdue list. */
let real: { code: string; timelineTypes: string[]; status: DossierStatus };

beforeAll(async () => {
  const [started, launched] = await Promise.all([
    System.start('dashboard'),
    chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] }),
  ]);
  sys = started;
  browser = launched;
  await sys.db.collection<DeadlineDoc>('deadlines').insertMany(SEEDED);
  // Inserted behind the projection's back: the counts the summary reads take them in on a verification.
  await sys.countsSettled();

  const body = submission({ submittedAt: '2025-06-02T09:15:00+07:00' });
  const created = await sys.request('POST', '/v1/dossiers', { token: sys.token('portal'), body });
  expect(created.status).toBe(201);
  // Settled once the courier job, the prepaid capture and the overdue pickup are all in: nothing more happens until a courier reports.
  const settled = ['system.job_created', 'system.payment_captured', 'deadline.overdue'];
  const view = await pollUntil(
    () => sys.request('GET', `/v1/dossiers/${body.code}`, { token: sys.token('manager') }),
    (r) => settled.every((type) => r.body?.timeline?.some((t: { type: string }) => t.type === type)),
  );
  expect(view.body).toMatchObject({ status: 'awaiting_pickup', deadlines: [{ stage: 'pickup', state: 'overdue' }] });
  expect(view.body.timeline.map((t: { type: string }) => t.type).sort()).toEqual(['dossier.submitted', ...settled].sort());
  const overdue = await pollUntil(
    () => sys.request('GET', '/v1/compliance/overdue', { token: sys.token('manager') }),
    (r) => r.body?.items?.some((i: { dossierCode: string }) => i.dossierCode === body.code),
  );
  expect(overdue.body.items.map((i: { dossierCode: string }) => i.dossierCode)).toEqual([body.code, 'DB-F', 'DB-C']);
  real = { code: body.code, timelineTypes: view.body.timeline.map((t: { type: string }) => t.type), status: view.body.status };
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

// A fresh browser context per test: its own sessionStorage and localStorage.
let context: BrowserContext;
let page: Page;
/** Script errors and CSP refusals: any of them fails the test. */
let pageErrors: string[];

beforeEach(async () => {
  // A browser far from Vietnam, in English: the page still defaults to Vietnamese and Vietnam's dates.
  context = await browser.newContext({ timezoneId: 'America/New_York', locale: 'en-US', viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) pageErrors.push(msg.text());
  });
});

afterEach(async () => {
  await context?.close();
  expect(pageErrors).toEqual([]);
});

const JAN_FEB = { from: '2026-01-01', to: '2026-02-28' };

async function open(): Promise<void> {
  const res = await page.goto(`${sys.baseUrl}/dashboard`);
  expect(res?.status()).toBe(200);
  await page.locator('#view-sign-in').waitFor();
}

async function signIn(token: string): Promise<void> {
  await page.fill('#token', token);
  await page.click('#sign-in button[type=submit]');
}

/** Sets the range (and the at-risk window) and waits until the page shows that load. */
async function showRange(range: { from: string; to: string }, withinHours = '24'): Promise<void> {
  await page.locator('#view-overview').waitFor();
  await page.fill('#from', range.from);
  await page.fill('#to', range.to);
  await page.selectOption('#within', withinHours);
  // The submit marks the view busy at once, so "not busy" afterwards means this load is shown.
  await page.click('#range button[type=submit]');
  await page.locator('#view-overview:not([aria-busy])').waitFor();
}

/** The text of each cell, row by row. */
const cells = (selector: string) =>
  page.locator(selector).evaluateAll((rows) => rows.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())));
const codes = (table: string) => page.locator(`${table} tbody tr`).evaluateAll((rows) => rows.map((tr) => tr.getAttribute('data-code')));

interface ChartLike {
  data: { labels: string[]; datasets: { data: (number | null)[] }[] };
}
/** What chart.js holds for a canvas, and how many of its pixels are painted in the bar colour. */
const chartOf = (canvasId: string) =>
  page.locator(`#${canvasId}`).evaluate((canvas) => {
    const chart = (globalThis as unknown as { Chart: { getChart(c: unknown): ChartLike | undefined } }).Chart.getChart(canvas);
    const { width, height } = canvas as unknown as { width: number; height: number };
    const pixels = (canvas as unknown as { getContext(t: '2d'): { getImageData(...a: number[]): { data: Uint8ClampedArray } } })
      .getContext('2d')
      .getImageData(0, 0, width, height).data;
    let bar = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] === 0x0b && pixels[i + 1] === 0x5c && pixels[i + 2] === 0xad) bar++;
    return { labels: chart?.data.labels, data: chart?.data.datasets[0]?.data, barPixels: bar };
  });

/** This month in Vietnam, as the page defaults to it. */
function thisMonthInVietnam(): { from: string; to: string } {
  const [y, m] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit' }).format(new Date()).split('-').map(Number) as [number, number];
  const mm = String(m).padStart(2, '0');
  return { from: `${y}-${mm}-01`, to: `${y}-${mm}-${new Date(Date.UTC(y, m, 0)).getUTCDate()}` };
}

test('the page and its assets are public, self-only under a strict CSP, with no inline script', async () => {
  const html = await sys.request('GET', '/dashboard');
  expect(html.status).toBe(200);
  expect(html.headers.get('content-type')).toMatch(/^text\/html/);
  expect(html.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'"]) {
    expect(DASHBOARD_CSP).toContain(directive);
  }
  expect(DASHBOARD_CSP).not.toMatch(/unsafe|\*|https?:/);
  // Every script and stylesheet is a same-origin file.
  expect(html.body).not.toMatch(/<script(?![^>]*\ssrc=")/);
  expect(html.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=|https?:\/\//);
  for (const [asset, type] of [
    ['app.js', /^(text|application)\/javascript/],
    ['app.css', /^text\/css/],
    ['chart.js', /^(text|application)\/javascript/],
    ['labels.json', /^application\/json/],
  ] as const) {
    const res = await sys.request('GET', `/dashboard/assets/${asset}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(type);
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
  }
  expect((await sys.request('GET', '/dashboard/assets/labels.json')).body).toEqual({ status: STATUS_LABELS });
  for (const missing of ['/dashboard/assets/nope.js', '/dashboard/assets/..%2Fapp.ts', '/dashboard/assets/']) {
    const res = await sys.request('GET', missing);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  }
});

test('a refused token returns to sign-in with the problem shown; a role without access sees the 403', async () => {
  await open();
  expect(await page.getAttribute('html', 'lang')).toBe('vi');
  expect(await page.textContent('h1')).toBe('Theo dõi thời hạn hồ sơ');

  await signIn('not-a-jwt');
  await page.locator('#problem').waitFor();
  expect(await page.textContent('#problem-title')).toBe('Unauthorized (401)');
  expect(await page.textContent('#problem-detail')).toBe('The token is not valid');
  expect(await page.isVisible('#view-sign-in')).toBe(true);
  expect(await page.isVisible('#view-overview')).toBe(false);
  expect(await page.evaluate("sessionStorage.getItem('dashboard.token')")).toBeNull();

  await signIn(sys.token('portal'));
  await page.locator('#view-overview').waitFor();
  await page.locator('#problem-title:text("Forbidden (403)")').waitFor();
  expect(await page.textContent('#problem-detail')).toBe('The portal role may not do this');
  // Still signed in: the user can sign out and try another token.
  expect(await page.isVisible('#sign-out')).toBe(true);
});

test('a manager sees the range in tables and charts, the overdue and at-risk lists, and downloads CSV and XLSX', async () => {
  await open();
  expect(await page.inputValue('#from')).toBe(thisMonthInVietnam().from);
  expect(await page.inputValue('#to')).toBe(thisMonthInVietnam().to);

  const token = sys.token('manager');
  await signIn(token);
  // A range the API refuses: its problem, field by field, then gone with the next good answer.
  await showRange({ from: '2026-02-28', to: '2026-01-01' });
  expect(await page.textContent('#problem-title')).toBe('Invalid input (400)');
  expect(await page.locator('#problem-errors li').allTextContents()).toEqual(['to must not be before from']);
  await showRange(JAN_FEB);
  expect(await page.isVisible('#problem')).toBe(false);
  expect(await page.textContent('#who')).toBe('Đăng nhập: manager-test (manager)');

  expect(await cells('#table-agency tbody tr')).toEqual([
    ['HL-TNMT', '3', '2', '1', '0', '0', '66,7%'],
    ['HL-UBND', '1', '0', '0', '0', '1', '0%'],
    ['QN-STP', '2', '0', '0', '1', '1', '0%'],
  ]);
  expect(await cells('#table-agency tfoot tr')).toEqual([['Tổng cộng', '6', '2', '1', '1', '2', '40%']]);
  // Stages in lifecycle order; a rate with nothing to judge is "—".
  expect(await cells('#table-stage tbody tr')).toEqual([
    ['Thu gom hồ sơ', '1', '1', '0', '0', '0', '100%'],
    ['Chuyển đến cơ quan', '1', '0', '1', '0', '0', '0%'],
    ['Giải quyết', '3', '1', '0', '0', '2', '33,3%'],
    ['Trả kết quả', '1', '0', '0', '1', '0', '—'],
  ]);
  expect(await cells('#table-stage tfoot tr')).toEqual([['Tổng cộng', '6', '2', '1', '1', '2', '40%']]);

  const agencyChart = await chartOf('chart-agency');
  expect(agencyChart).toMatchObject({ labels: ['HL-TNMT', 'HL-UBND', 'QN-STP'], data: [66.7, 0, 0] });
  expect(agencyChart.barPixels).toBeGreaterThan(500);
  const stageChart = await chartOf('chart-stage');
  expect(stageChart).toMatchObject({ labels: ['Thu gom hồ sơ', 'Chuyển đến cơ quan', 'Giải quyết', 'Trả kết quả'], data: [100, 0, 33.3, null] });
  expect(stageChart.barPixels).toBeGreaterThan(500);

  // The lists are the current state, whatever the range: oldest overdue first, each a link to the timeline.
  expect(await codes('#table-overdue')).toEqual([real.code, 'DB-F', 'DB-C']);
  expect(await page.getAttribute(`#table-overdue a:text-is("${real.code}")`, 'href')).toBe(`#/dossiers/${real.code}`);
  expect((await cells('#table-overdue tbody tr'))[1]!.slice(0, 4)).toEqual(['DB-F', 'Giải quyết', 'HL-UBND', '00:00 7/1/26']);
  expect(await codes('#table-at-risk')).toEqual(['DB-G']);
  await showRange(JAN_FEB, '48');
  expect(await codes('#table-at-risk')).toEqual(['DB-G', 'DB-H']);

  fs.mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'dashboard.png'), fullPage: true });

  // CSV through fetch + blob with the token: the very bytes the API serves.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-group=agency] a.export[data-format=csv]')]);
  expect(csv.suggestedFilename()).toBe('compliance-2026-01-01-2026-02-28-agency.csv');
  const api = await fetch(`${sys.baseUrl}/v1/compliance/summary?from=2026-01-01&to=2026-02-28&groupBy=agency&format=csv`, { headers: { authorization: `Bearer ${token}` } });
  const file = fs.readFileSync((await csv.path())!);
  expect(file).toEqual(Buffer.from(await api.arrayBuffer())); // bytes, BOM included
  expect(file.toString('utf8')).toContain('\r\nHL-TNMT,3,2,1,0,0,0.6666666666666666');

  // XLSX the same way: a zip (OOXML) named by the API.
  const [xlsxRequest, xlsx] = await Promise.all([
    page.waitForRequest((r) => r.url().includes('format=xlsx')),
    page.waitForEvent('download'),
    page.click('[data-group=stage] a.export[data-format=xlsx]'),
  ]);
  expect(Object.fromEntries(new URL(xlsxRequest.url()).searchParams)).toEqual({ ...JAN_FEB, groupBy: 'stage', format: 'xlsx' });
  expect(xlsxRequest.headers().authorization).toBe(`Bearer ${token}`);
  expect(xlsx.suggestedFilename()).toBe('compliance-2026-01-01-2026-02-28-stage.xlsx');
  expect(fs.readFileSync((await xlsx.path())!).subarray(0, 4)).toEqual(Buffer.from('PK\x03\x04', 'latin1'));
});

test('an overdue item opens the dossier timeline; a code with no dossier shows the 404', async () => {
  await open();
  await signIn(sys.token('manager'));
  await page.locator(`#table-overdue a:text-is("${real.code}")`).click();
  await page.locator('#dossier-body').waitFor();
  expect(new URL(page.url()).hash).toBe(`#/dossiers/${real.code}`);
  expect(await page.textContent('#dossier-title')).toBe(`Hồ sơ ${real.code}`);
  expect(await page.textContent('#dossier-facts [data-status]')).toBe(STATUS_LABELS[real.status].vi);
  expect(await cells('#dossier-deadlines tbody tr')).toEqual([['Thu gom hồ sơ', 'Bưu điện', expect.stringMatching(/\/6\/25$/), '—', '—', 'Quá hạn']]);
  // Every event of the dossier, in order, named in Vietnamese.
  const timeline = page.locator('#dossier-timeline li');
  expect(await timeline.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-type')))).toEqual(real.timelineTypes);
  expect(real.timelineTypes[0]).toBe('dossier.submitted');
  expect(real.timelineTypes).toContain('deadline.overdue');
  expect(await page.textContent('#dossier-timeline li[data-type="dossier.submitted"] strong')).toBe('Nộp hồ sơ');
  expect(await page.textContent('#dossier-timeline li[data-type="deadline.overdue"] strong')).toBe('Quá hạn');

  await page.click('a[href="#/"]');
  await page.locator('#view-overview').waitFor();
  await page.locator('#table-overdue a:text-is("DB-F")').click();
  await page.locator('#problem').waitFor();
  expect(await page.textContent('#problem-title')).toBe('Not found (404)');
  expect(await page.textContent('#problem-detail')).toBe('No dossier DB-F');
  expect(await page.isVisible('#dossier-body')).toBe(false);
});

test('English is one click away and remembered; signing out forgets the token', async () => {
  await open();
  await signIn(sys.token('manager'));
  await showRange(JAN_FEB);
  await page.click('#lang');
  expect(await page.getAttribute('html', 'lang')).toBe('en');
  expect(await page.textContent('h1')).toBe('Dossier deadline compliance');
  expect(await page.textContent('#lang')).toBe('Tiếng Việt');
  expect(await page.textContent('#table-stage thead th:first-child')).toBe('Stage');
  expect(await cells('#table-stage tbody tr')).toEqual([
    ['Pickup', '1', '1', '0', '0', '0', '100%'],
    ['Handoff to agency', '1', '0', '1', '0', '0', '0%'],
    ['Processing', '3', '1', '0', '0', '2', '33.3%'],
    ['Delivery', '1', '0', '0', '1', '0', '—'],
  ]);
  expect((await chartOf('chart-stage')).labels).toEqual(['Pickup', 'Handoff to agency', 'Processing', 'Delivery']);
  expect(await page.getAttribute('#chart-stage', 'aria-label')).toMatch(/^Bar chart: on-time rate by stage/);

  // A reload keeps the language (localStorage) and the session (sessionStorage).
  await page.reload();
  await page.locator('#view-overview:not([aria-busy]) #table-agency tfoot tr').waitFor();
  expect(await page.textContent('h1')).toBe('Dossier deadline compliance');
  expect(await page.textContent('#sign-out')).toBe('Sign out');

  await page.click('#sign-out');
  await page.locator('#view-sign-in').waitFor();
  expect(await page.evaluate("sessionStorage.getItem('dashboard.token')")).toBeNull();
  expect(await page.isVisible('#sign-out')).toBe(false);
  expect(await page.locator('#table-agency tbody tr').count()).toBe(0);
  expect(await page.textContent('#sign-in h2')).toBe('Sign in');
  // A dossier link without a token goes to sign-in too.
  await page.goto(`${sys.baseUrl}/dashboard#/dossiers/${real.code}`);
  await page.locator('#view-sign-in').waitFor();
  expect(await page.isVisible('#view-dossier')).toBe(false);
});
