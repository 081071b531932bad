// Manager dashboard: plain DOM, no framework. All data comes from /v1 with the
// token the user pasted; every text from the API is set as textContent, never as HTML.

const TZ = 'Asia/Ho_Chi_Minh';
const TOKEN_KEY = 'dashboard.token';
const LANG_KEY = 'dashboard.lang';
const STAGE_ORDER = ['pickup', 'handoff', 'processing', 'delivery'];

const TEXT = {
  vi: {
    title: 'Theo dõi thời hạn hồ sơ',
    signInTitle: 'Đăng nhập',
    signInHelp: 'Dán mã truy cập (JWT) của vai trò quản lý. Mã chỉ được giữ trong phiên làm việc của trình duyệt này.',
    token: 'Mã truy cập (JWT)',
    signIn: 'Đăng nhập',
    signOut: 'Đăng xuất',
    langToggle: 'English',
    dismiss: 'Đóng',
    overview: 'Tổng quan',
    from: 'Từ ngày',
    to: 'Đến ngày',
    withinHours: 'Sắp đến hạn trong',
    h24: '24 giờ',
    h48: '48 giờ',
    h72: '72 giờ',
    h168: '7 ngày',
    apply: 'Xem',
    byAgency: 'Tỷ lệ đúng hạn theo cơ quan',
    byStage: 'Tỷ lệ đúng hạn theo giai đoạn',
    chartAgency: 'Biểu đồ cột: tỷ lệ đúng hạn theo cơ quan. Số liệu ở bảng bên dưới.',
    chartStage: 'Biểu đồ cột: tỷ lệ đúng hạn theo giai đoạn. Số liệu ở bảng bên dưới.',
    exportCsv: 'Tải CSV',
    exportXlsx: 'Tải Excel (XLSX)',
    colAgency: 'Cơ quan',
    colStage: 'Giai đoạn',
    total: 'Tổng',
    metOnTime: 'Đúng hạn',
    metLate: 'Trễ hạn',
    open: 'Chưa đến hạn',
    overdue: 'Quá hạn',
    rate: 'Tỷ lệ đúng hạn',
    totals: 'Tổng cộng',
    rateNote: '“—”: chưa có thời hạn nào kết thúc hoặc quá hạn, nên chưa có tỷ lệ.',
    noRows: 'Không có thời hạn nào đến hạn trong khoảng này.',
    overdueTitle: 'Đang quá hạn',
    atRiskTitle: 'Sắp đến hạn',
    code: 'Mã hồ sơ',
    due: 'Hạn',
    lateBy: 'Trễ',
    dueIn: 'Còn',
    none: 'Không có.',
    loading: 'Đang tải…',
    updated: 'Cập nhật lúc {time}',
    back: '← Quay lại bảng điều khiển',
    deadlines: 'Thời hạn',
    timeline: 'Diễn biến',
    owner: 'Bên chịu trách nhiệm',
    revisedDue: 'Hạn hẹn lại',
    completed: 'Hoàn thành',
    state: 'Tình trạng',
    status: 'Trạng thái',
    procedure: 'Thủ tục',
    agency: 'Cơ quan',
    submittedAt: 'Ngày nộp',
    nextDue: 'Hạn kế tiếp',
    dossier: 'Hồ sơ {code}',
    by: 'bởi {who}',
    atRisk: 'có nguy cơ trễ',
    signedIn: 'Đăng nhập: {who}',
    networkError: 'Không kết nối được máy chủ',
    networkDetail: 'Kiểm tra kết nối mạng rồi thử lại.',
    downloadFailed: 'Không tải được tệp',
    stages: { pickup: 'Thu gom hồ sơ', handoff: 'Chuyển đến cơ quan', processing: 'Giải quyết', delivery: 'Trả kết quả' },
    owners: { post: 'Bưu điện', agency: 'Cơ quan' },
    states: { open: 'Chưa đến hạn', overdue: 'Quá hạn', met_on_time: 'Đúng hạn', met_late: 'Trễ hạn' },
    events: {
      'dossier.submitted': 'Nộp hồ sơ',
      'system.job_created': 'Giao việc cho bưu tá',
      'system.handed_off': 'Chuyển hồ sơ cho cơ quan',
      'system.counter_notified': 'Mời công dân nhận tại quầy',
      'system.payment_captured': 'Đã thu phí trả trước',
      'system.payment_declined': 'Thanh toán bị từ chối',
      'courier.picked_up': 'Bưu tá đã nhận hồ sơ',
      'courier.pickup_failed': 'Nhận hồ sơ không thành công',
      'courier.pickup_redispatched': 'Điều bưu tá nhận lại',
      'agency.received': 'Cơ quan tiếp nhận',
      'agency.supplement_requested': 'Yêu cầu bổ sung hồ sơ',
      'citizen.supplement_provided': 'Công dân đã bổ sung',
      'agency.apologized': 'Xin lỗi và hẹn lại ngày trả',
      'agency.completed': 'Có kết quả',
      'courier.delivery_attempted': 'Phát kết quả',
      'counter.collected': 'Nhận kết quả tại quầy',
      'citizen.redelivery_requested': 'Yêu cầu phát lại',
      'citizen.withdrawn': 'Rút hồ sơ',
      'deadline.rescheduled': 'Tính lại hạn',
      'deadline.at_risk': 'Có nguy cơ trễ hạn',
      'deadline.overdue': 'Quá hạn',
      'deadline.revised_due_passed': 'Quá hạn hẹn lại',
      'deadline.reminder': 'Nhắc việc quá hạn',
      'result.invitation_sent': 'Mời nhận kết quả',
      'result.returned_to_agency': 'Trả kết quả về cơ quan',
    },
  },
  en: {
    title: 'Dossier deadline compliance',
    signInTitle: 'Sign in',
    signInHelp: 'Paste a manager access token (JWT). It is kept only for this browser session.',
    token: 'Access token (JWT)',
    signIn: 'Sign in',
    signOut: 'Sign out',
    langToggle: 'Tiếng Việt',
    dismiss: 'Dismiss',
    overview: 'Overview',
    from: 'From',
    to: 'To',
    withinHours: 'Due within',
    h24: '24 hours',
    h48: '48 hours',
    h72: '72 hours',
    h168: '7 days',
    apply: 'Show',
    byAgency: 'On-time rate by agency',
    byStage: 'On-time rate by stage',
    chartAgency: 'Bar chart: on-time rate by agency. The figures are in the table below.',
    chartStage: 'Bar chart: on-time rate by stage. The figures are in the table below.',
    exportCsv: 'Download CSV',
    exportXlsx: 'Download Excel (XLSX)',
    colAgency: 'Agency',
    colStage: 'Stage',
    total: 'Total',
    metOnTime: 'On time',
    metLate: 'Late',
    open: 'Not yet due',
    overdue: 'Overdue',
    rate: 'On-time rate',
    totals: 'Totals',
    rateNote: '“—”: no deadline met or overdue yet, so no rate.',
    noRows: 'No deadline falls due in this range.',
    overdueTitle: 'Overdue now',
    atRiskTitle: 'Due soon',
    code: 'Dossier',
    due: 'Due',
    lateBy: 'Late by',
    dueIn: 'Due in',
    none: 'None.',
    loading: 'Loading…',
    updated: 'Updated at {time}',
    back: '← Back to the dashboard',
    deadlines: 'Deadlines',
    timeline: 'Timeline',
    owner: 'Owner',
    revisedDue: 'Revised due',
    completed: 'Completed',
    state: 'State',
    status: 'Status',
    procedure: 'Procedure',
    agency: 'Agency',
    submittedAt: 'Submitted',
    nextDue: 'Next due',
    dossier: 'Dossier {code}',
    by: 'by {who}',
    atRisk: 'at risk',
    signedIn: 'Signed in: {who}',
    networkError: 'Cannot reach the server',
    networkDetail: 'Check the network connection and try again.',
    downloadFailed: 'Download failed',
    stages: { pickup: 'Pickup', handoff: 'Handoff to agency', processing: 'Processing', delivery: 'Delivery' },
    owners: { post: 'Post', agency: 'Agency' },
    states: { open: 'Not yet due', overdue: 'Overdue', met_on_time: 'Met on time', met_late: 'Met late' },
    events: {
      'dossier.submitted': 'Submitted',
      'system.job_created': 'Courier job created',
      'system.handed_off': 'Handed off to the agency',
      'system.counter_notified': 'Citizen invited to the counter',
      'system.payment_captured': 'Prepaid fees captured',
      'system.payment_declined': 'Payment declined',
      'courier.picked_up': 'Picked up by the courier',
      'courier.pickup_failed': 'Pickup failed',
      'courier.pickup_redispatched': 'Pickup re-dispatched',
      'agency.received': 'Received by the agency',
      'agency.supplement_requested': 'Supplement requested',
      'citizen.supplement_provided': 'Supplement provided',
      'agency.apologized': 'Apology with a new date',
      'agency.completed': 'Result ready',
      'courier.delivery_attempted': 'Delivery attempt',
      'counter.collected': 'Collected at the counter',
      'citizen.redelivery_requested': 'Redelivery requested',
      'citizen.withdrawn': 'Withdrawn',
      'deadline.rescheduled': 'Due recomputed',
      'deadline.at_risk': 'At risk of being late',
      'deadline.overdue': 'Overdue',
      'deadline.revised_due_passed': 'Revised due passed',
      'deadline.reminder': 'Overdue reminder',
      'result.invitation_sent': 'Invitation to collect',
      'result.returned_to_agency': 'Result returned to the agency',
    },
  },
};

const $ = (id) => document.getElementById(id);

const state = {
  lang: localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'vi',
  token: sessionStorage.getItem(TOKEN_KEY),
  /** Status labels from the API (the ones public tracking uses). */
  statusLabels: {},
  /** The last overview answers, kept to re-render on a language switch without refetching. */
  overview: null,
  dossier: null,
  loading: null,
  charts: {},
};

// ------------------------------------------------------------------ text

const t = (key, vars = {}) => String(TEXT[state.lang][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');
const locale = () => (state.lang === 'vi' ? 'vi-VN' : 'en-GB');
const stageLabel = (s) => TEXT[state.lang].stages[s] ?? s;
const num = (n) => new Intl.NumberFormat(locale()).format(n);
const rate = (r) => (r === null || r === undefined ? '—' : new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(r));
const dateTime = (iso) =>
  iso ? new Intl.DateTimeFormat(locale(), { timeZone: TZ, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso)) : '—';
const duration = (ms) => {
  const hours = Math.abs(ms) / 3600_000;
  const [value, unit] = hours >= 48 ? [Math.floor(hours / 24), 'day'] : [Math.max(1, Math.floor(hours)), 'hour'];
  return new Intl.NumberFormat(locale(), { style: 'unit', unit, unitDisplay: 'long' }).format(value);
};

function applyText() {
  document.documentElement.lang = state.lang;
  document.title = t('title');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  const toggle = $('lang');
  toggle.textContent = t('langToggle');
  toggle.lang = state.lang === 'vi' ? 'en' : 'vi';
  showWho();
}

/** Builds an element; children are nodes or text (set as text, never parsed). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

// ------------------------------------------------------------------ problems

class ApiError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title);
    this.problem = problem;
  }
}

function showProblem(problem) {
  $('problem-title').textContent = problem.status ? `${problem.title} (${problem.status})` : problem.title;
  $('problem-detail').textContent = problem.detail ?? '';
  $('problem-errors').replaceChildren(...(problem.errors ?? []).map((e) => h('li', {}, h('code', {}, e.path), ` ${e.message}`)));
  $('problem').hidden = false;
}

function clearProblem() {
  $('problem').hidden = true;
}

/** Any failure as a problem+json shape: the API's own, or one made up for the network. */
async function toProblem(res) {
  const type = res.headers.get('content-type') ?? '';
  if (/json/.test(type)) {
    try {
      const body = await res.json();
      if (body && typeof body.title === 'string') return body;
    } catch {
      // not JSON after all: fall through
    }
  }
  return { type: 'about:blank', title: res.statusText || 'Error', status: res.status, detail: '' };
}

function failed(err) {
  if (err.name === 'AbortError') return;
  if (err instanceof ApiError) {
    if (err.problem.status === 401) return signOut(err.problem);
    return showProblem(err.problem);
  }
  // A bug in this page, not an answer of the API: shown, then rethrown so it reaches the console.
  showProblem({ title: 'Error', detail: String(err?.message ?? err) });
  throw err;
}

// ------------------------------------------------------------------ API

async function api(path, { signal, accept = 'application/json' } = {}) {
  let res;
  try {
    res = await fetch(path, { headers: { authorization: `Bearer ${state.token}`, accept }, signal, cache: 'no-store' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError({ title: t('networkError'), detail: t('networkDetail') });
  }
  if (!res.ok) throw new ApiError(await toProblem(res));
  return res;
}

const getJson = async (path, signal) => (await api(path, { signal })).json();

// ------------------------------------------------------------------ session

function tokenClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function showWho() {
  const claims = state.token ? tokenClaims(state.token) : null;
  $('who').hidden = !claims;
  $('who').textContent = claims ? t('signedIn', { who: `${claims.sub} (${claims.role})` }) : '';
  $('sign-out').hidden = !state.token;
}

function signIn(token) {
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  state.overview = null;
  clearProblem();
  showWho();
  if (!location.hash) history.replaceState(null, '', '#/');
  route();
}

/** Forgets the token and everything fetched with it; `problem` says why when the API refused the token. */
function signOut(problem) {
  state.loading?.abort();
  state.token = null;
  state.overview = null;
  state.dossier = null;
  sessionStorage.removeItem(TOKEN_KEY);
  for (const chart of Object.values(state.charts)) chart.destroy();
  state.charts = {};
  for (const id of ['table-agency', 'table-stage', 'table-overdue', 'table-at-risk']) {
    for (const part of $(id).querySelectorAll('tbody, tfoot')) part.replaceChildren();
  }
  $('token').value = '';
  if (problem) showProblem(problem);
  else clearProblem();
  showWho();
  history.replaceState(null, '', location.pathname + location.search);
  route();
}

// ------------------------------------------------------------------ overview

/** Today's month in Vietnam, whatever the browser's own time zone. */
function thisMonth() {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  const [y, m] = today.split('-').map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const mm = String(m).padStart(2, '0');
  return { from: `${y}-${mm}-01`, to: `${y}-${mm}-${String(last).padStart(2, '0')}` };
}

function summaryPath(groupBy, format) {
  const q = new URLSearchParams({ from: $('from').value, to: $('to').value, groupBy });
  if (format) q.set('format', format);
  return `/v1/compliance/summary?${q}`;
}

async function loadOverview() {
  state.loading?.abort();
  const ctl = new AbortController();
  state.loading = ctl;
  const within = $('within').value;
  $('status').textContent = t('loading');
  $('view-overview').setAttribute('aria-busy', 'true');
  const chartLib = loadChartLib(); // in parallel with the data
  try {
    const [agency, stage, overdue, atRisk] = await Promise.all([
      getJson(summaryPath('agency'), ctl.signal),
      getJson(summaryPath('stage'), ctl.signal),
      getJson('/v1/compliance/overdue', ctl.signal),
      getJson(`/v1/compliance/at-risk?withinHours=${encodeURIComponent(within)}`, ctl.signal),
    ]);
    stage.rows.sort((a, b) => STAGE_ORDER.indexOf(a.key) - STAGE_ORDER.indexOf(b.key));
    state.overview = { agency, stage, overdue, atRisk, at: Date.now() };
    clearProblem();
    renderOverview();
    await chartLib.then(renderCharts, () => undefined); // the tables carry the figures without the charts
  } catch (err) {
    if (err.name !== 'AbortError') $('status').textContent = '';
    failed(err);
  } finally {
    if (state.loading === ctl) {
      state.loading = null;
      $('view-overview').removeAttribute('aria-busy');
    }
  }
}

function renderOverview() {
  const o = state.overview;
  if (!o) return;
  figuresTable('table-agency', o.agency, (key) => key);
  figuresTable('table-stage', o.stage, stageLabel);
  deadlineList('table-at-risk', o.atRisk.items, (d) => duration(Date.parse(d.dueAt) - o.at));
  deadlineList('table-overdue', o.overdue.items, (d) => duration(o.at - Date.parse(d.dueAt)));
  for (const a of document.querySelectorAll('a.export')) {
    a.href = summaryPath(a.closest('[data-group]').dataset.group, a.dataset.format);
  }
  $('status').textContent = t('updated', { time: new Intl.DateTimeFormat(locale(), { timeZone: TZ, timeStyle: 'short' }).format(o.at) });
}

function countCells(c) {
  return [c.total, c.metOnTime, c.metLate, c.open, c.overdue].map((n) => h('td', {}, num(n))).concat(h('td', {}, rate(c.onTimeRate)));
}

function figuresTable(id, summary, label) {
  const table = $(id);
  const rows = summary.rows.map((r) => h('tr', { dataset: { key: r.key } }, h('th', { scope: 'row' }, label(r.key)), ...countCells(r)));
  if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('noRows'))));
  table.tBodies[0].replaceChildren(...rows);
  table.tFoot.replaceChildren(h('tr', { dataset: { key: '' } }, h('th', { scope: 'row' }, t('totals')), ...countCells(summary.totals)));
}

function deadlineList(id, items, howLong) {
  const table = $(id);
  table.tBodies[0].replaceChildren(
    ...items.map((d) =>
      h(
        'tr',
        { dataset: { code: d.dossierCode } },
        h('td', {}, h('a', { href: `#/dossiers/${encodeURIComponent(d.dossierCode)}` }, d.dossierCode)),
        h('td', {}, stageLabel(d.stage)),
        h('td', {}, d.agencyId),
        h('td', {}, h('time', { datetime: d.dueAt }, dateTime(d.dueAt))),
        h('td', {}, howLong(d)),
      ),
    ),
  );
  table.hidden = !items.length;
  table.nextElementSibling.hidden = items.length > 0;
}

// ------------------------------------------------------------------ charts

let chartLibPromise = null;

/** chart.js (about 200 kB) only once signed in, so the sign-in screen stays light. */
function loadChartLib() {
  chartLibPromise ??= new Promise((resolve, reject) => {
    const script = h('script', { src: '/dashboard/assets/chart.js' });
    script.addEventListener('load', () => resolve(window.Chart));
    script.addEventListener('error', () => {
      chartLibPromise = null;
      reject(new Error('chart.js did not load'));
    });
    document.head.append(script);
  });
  return chartLibPromise;
}

function renderCharts() {
  const o = state.overview;
  if (!o || !window.Chart) return;
  chart('agency', o.agency.rows.map((r) => r.key), o.agency.rows);
  chart('stage', o.stage.rows.map((r) => stageLabel(r.key)), o.stage.rows);
}

function chart(name, labels, rows) {
  // Percentages, one decimal; a null rate draws no bar (the table shows "—").
  const data = rows.map((r) => (r.onTimeRate === null ? null : Math.round(r.onTimeRate * 1000) / 10));
  const existing = state.charts[name];
  if (existing) {
    existing.data.labels = labels;
    existing.data.datasets[0].data = data;
    existing.data.datasets[0].label = t('rate');
    existing.update('none');
    return;
  }
  state.charts[name] = new window.Chart($(`chart-${name}`), {
    type: 'bar',
    data: { labels, datasets: [{ label: t('rate'), data, backgroundColor: '#0b5cad', maxBarThickness: 48 }] },
    options: {
      animation: false, // light on a small machine; nothing to animate in figures
      responsive: true,
      maintainAspectRatio: false,
      scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (ctx) => `${t('rate')}: ${rate(rows[ctx.dataIndex]?.onTimeRate ?? null)}` } },
      },
    },
  });
}

// ------------------------------------------------------------------ exports

/** The export links need the token, so they download through fetch and a blob URL. */
async function download(a) {
  if (!state.overview) return;
  try {
    const res = await api(a.href);
    const blob = await res.blob();
    const disposition = res.headers.get('content-disposition') ?? '';
    const name =
      /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ??
      /filename="?([^";]+)"?/i.exec(disposition)?.[1] ??
      `compliance-${$('from').value}-${$('to').value}.${a.dataset.format}`;
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: decodeURIComponent(name), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    if (err instanceof ApiError && err.problem.status !== 401) {
      return showProblem({ ...err.problem, title: `${t('downloadFailed')}: ${err.problem.title}` });
    }
    failed(err);
  }
}

// ------------------------------------------------------------------ dossier

async function showDossier(code) {
  $('dossier-title').textContent = t('dossier', { code });
  $('dossier-body').hidden = true;
  state.loading?.abort();
  const ctl = new AbortController();
  state.loading = ctl;
  try {
    const view = await getJson(`/v1/dossiers/${encodeURIComponent(code)}`, ctl.signal);
    state.dossier = view;
    clearProblem();
    renderDossier();
  } catch (err) {
    failed(err);
  } finally {
    if (state.loading === ctl) state.loading = null;
  }
}

function renderDossier() {
  const d = state.dossier;
  if (!d || $('view-dossier').hidden) return;
  const status = state.statusLabels[d.status]?.[state.lang] ?? d.status;
  $('dossier-title').textContent = t('dossier', { code: d.code });
  const fact = (label, ...value) => [h('dt', {}, t(label)), h('dd', {}, ...value)];
  $('dossier-facts').replaceChildren(
    ...fact('status', h('span', { dataset: { status: d.status } }, status)),
    ...fact('procedure', `${d.procedureName} (${d.procedureCode})`),
    ...fact('agency', `${d.agencyName} (${d.agencyId})`),
    ...fact('submittedAt', h('time', { datetime: d.submittedAt }, dateTime(d.submittedAt))),
    ...fact('nextDue', d.nextDueAt ? h('time', { datetime: d.nextDueAt }, dateTime(d.nextDueAt)) : '—'),
  );
  $('dossier-deadlines').tBodies[0].replaceChildren(
    ...d.deadlines.map((x) =>
      h(
        'tr',
        { dataset: { stage: x.stage, state: x.state } },
        h('td', {}, stageLabel(x.stage)),
        h('td', {}, TEXT[state.lang].owners[x.owner] ?? x.owner),
        h('td', {}, dateTime(x.dueAt)),
        h('td', {}, dateTime(x.revisedDueAt)),
        h('td', {}, dateTime(x.completedAt)),
        h('td', { class: `state-${x.state}` }, TEXT[state.lang].states[x.state] ?? x.state, x.atRisk ? ` (${t('atRisk')})` : null),
      ),
    ),
  );
  $('dossier-timeline').replaceChildren(
    ...d.timeline.map((e) =>
      h(
        'li',
        { dataset: { type: e.type } },
        h('time', { datetime: e.occurredAt }, dateTime(e.occurredAt)),
        h('strong', { title: e.type }, TEXT[state.lang].events[e.type] ?? e.type),
        ` ${t('by', { who: e.by.role === 'system' ? e.by.role : `${e.by.role} ${e.by.id}` })}`,
        e.note ? h('span', { class: 'note' }, e.note) : null,
      ),
    ),
  );
  $('dossier-body').hidden = false;
}

// ------------------------------------------------------------------ routing

function show(view) {
  for (const el of document.querySelectorAll('.view')) el.hidden = el.id !== `view-${view}`;
}

function route() {
  if (!state.token) {
    show('sign-in');
    $('token').focus();
    return;
  }
  const m = /^#\/dossiers\/(.+)$/.exec(location.hash);
  if (m) {
    show('dossier');
    $('dossier-title').focus();
    showDossier(decodeURIComponent(m[1]));
    return;
  }
  state.dossier = null;
  show('overview');
  if (!state.overview) loadOverview();
}

// ------------------------------------------------------------------ start

function start() {
  const month = thisMonth();
  $('from').value = month.from;
  $('to').value = month.to;
  applyText();

  $('sign-in').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    if (token) signIn(token);
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'vi' ? 'en' : 'vi';
    localStorage.setItem(LANG_KEY, state.lang);
    applyText();
    renderOverview();
    renderCharts();
    renderDossier();
  });
  $('problem-close').addEventListener('click', clearProblem);
  $('range').addEventListener('submit', (e) => {
    e.preventDefault();
    loadOverview();
  });
  for (const a of document.querySelectorAll('a.export')) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      download(a);
    });
  }
  window.addEventListener('hashchange', route);

  // Public, no token: the status labels public tracking uses.
  fetch('/dashboard/assets/labels.json')
    .then((res) => (res.ok ? res.json() : {}))
    .then((labels) => {
      state.statusLabels = labels.status ?? {};
      renderDossier();
    })
    .catch(() => undefined);
  route();
}

start();
