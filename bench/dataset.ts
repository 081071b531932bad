/**
 * A deterministic synthetic `deadlines` read model for the compliance
 * benchmark: 12 months of dues in Quảng Ninh, 20 agencies, 50 procedures,
 * the four stages and their owners, 13 districts, plausible states.
 *
 * Records come dossier by dossier in submission order shuffled across the
 * year, so any prefix of the stream has the same distribution (the sizes are
 * prefixes of one stream).
 */
import type { DossierStatus, Stage } from '../domain/dossier';
import type { DeadlineDoc } from '../store/read-model';

/** Dues span [FIRST_DAY, LAST_DAY]; records due before NOW are decided or overdue. */
export const FIRST_DAY = '2025-06-01';
export const LAST_DAY = '2026-05-31';
export const NOW = Date.parse('2026-05-15T10:00:00+07:00');
/** The benchmark's one-month window: fully in the past, so every state occurs. */
export const WINDOW = { from: '2026-03-01', to: '2026-03-31' } as const;

const DAY_MS = 86_400_000;
const TZ_MS = 7 * 3600_000;

// District-level units with rough population weights (thousands).
const DISTRICTS: [string, number][] = [
  ['Hạ Long', 300], ['Cẩm Phả', 190], ['Đông Triều', 170], ['Quảng Yên', 150], ['Uông Bí', 120],
  ['Móng Cái', 110], ['Hải Hà', 60], ['Vân Đồn', 50], ['Tiên Yên', 50], ['Đầm Hà', 40],
  ['Bình Liêu', 30], ['Ba Chẽ', 20], ['Cô Tô', 6],
];

interface Agency {
  id: string;
  /** null: provincial, serves every district. */
  district: string | null;
  procedures: string[];
  weight: number;
}

const proc = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `1.00${String(1000 + from + i)}`);
const PROVINCIAL = ['QN-STP', 'QN-SKHDT', 'QN-SXD', 'QN-SLDTBXH'];
const UBND: [string, string][] = [
  ['HL', 'Hạ Long'], ['CP', 'Cẩm Phả'], ['DT', 'Đông Triều'], ['QY', 'Quảng Yên'], ['UB', 'Uông Bí'],
  ['MC', 'Móng Cái'], ['HH', 'Hải Hà'], ['VD', 'Vân Đồn'], ['TY', 'Tiên Yên'], ['DH', 'Đầm Hà'],
];
const TNMT = UBND.slice(0, 6);

/** 4 provincial departments (6 procedures each), 10 district people's committees and 6 land offices (shared sets). */
export const AGENCIES: Agency[] = [
  ...PROVINCIAL.map((id, i) => ({ id, district: null, procedures: proc(i * 6, 6), weight: 60 })),
  ...UBND.map(([c, d]) => ({ id: `${c}-UBND`, district: d, procedures: proc(24, 16), weight: weightOf(d) * 0.6 })),
  ...TNMT.map(([c, d]) => ({ id: `${c}-TNMT`, district: d, procedures: proc(40, 10), weight: weightOf(d) * 0.5 })),
];

function weightOf(district: string): number {
  return DISTRICTS.find(([d]) => d === district)![1];
}

/** Small fast PRNG (mulberry32): the same seed gives the same data set. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function picker<T>(items: [T, number][]): (r: number) => T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  const cum: number[] = [];
  let acc = 0;
  for (const [, w] of items) cum.push((acc += w / total));
  return (r) => {
    for (let i = 0; i < cum.length; i++) if (r < cum[i]) return items[i][0];
    return items[items.length - 1][0];
  };
}

const pickAgency = picker(AGENCIES.map((a) => [a, a.weight] as [Agency, number]));
const pickDistrict = picker(DISTRICTS);
// Zipf-like popularity within an agency's procedure list.
const zipf = (n: number) => picker(Array.from({ length: n }, (_, i) => [i, 1 / (i + 1)] as [number, number]));
const zipfBy = new Map<number, (r: number) => number>();

const localDay = (ms: number): string => new Date(ms + TZ_MS).toISOString().slice(0, 10);
const dayStart = (day: string): number => Date.parse(`${day}T00:00:00+07:00`);

// Day arithmetic on indexes into a precomputed table: the generator runs a million times.
const BASE = dayStart('2025-04-01');
const DAYS: { day: string; weekend: boolean }[] = Array.from({ length: 500 }, (_, i) => {
  const day = localDay(BASE + i * DAY_MS);
  const wd = new Date(`${day}T00:00:00Z`).getUTCDay();
  return { day, weekend: wd === 0 || wd === 6 };
});
const dayIndex = (day: string): number => Math.round((dayStart(day) - BASE) / DAY_MS);

/** Adds working days (weekends skipped; holidays ignored: volume shape only). */
function addWorkingDays(i: number, n: number): number {
  let left = n;
  while (left > 0) if (!DAYS[++i].weekend) left--;
  return i;
}

const PROCESSING_DAYS = [1, 3, 5, 7, 10, 10, 15, 20];
const OWNER: Record<Stage, 'post' | 'agency'> = { pickup: 'post', handoff: 'post', processing: 'agency', delivery: 'post' };

/**
 * The deadline stream: each dossier yields 2 to 4 deadlines (processing and
 * handoff always, pickup ~60 %, delivery ~55 %), ~3.15 per dossier.
 */
export function* deadlines(seed = 20260515): Generator<DeadlineDoc> {
  const r = rng(seed);
  const first = dayIndex(FIRST_DAY);
  const span = dayIndex(LAST_DAY) - first + 1;
  for (let n = 0; ; n++) {
    // Submission day: 10 days before the dues it yields, weekdays mostly.
    let submitted = first + Math.floor(r() * span) - 10;
    if (DAYS[submitted].weekend && r() < 0.9) submitted = addWorkingDays(submitted, 1);
    const agency = pickAgency(r());
    let z = zipfBy.get(agency.procedures.length);
    if (!z) zipfBy.set(agency.procedures.length, (z = zipf(agency.procedures.length)));
    const procedureCode = agency.procedures[z(r())];
    const district =
      agency.district === null ? pickDistrict(r()) : r() < 0.92 ? agency.district : pickDistrict(r());
    const code = `QN-${DAYS[submitted].day.replaceAll('-', '').slice(2)}-${String(n).padStart(7, '0')}`;
    const collect = r() < 0.6;
    const deliver = r() < 0.55;
    const stages: [Stage, number][] = [];
    let day = submitted;
    if (collect) stages.push(['pickup', (day = addWorkingDays(day, 1))]);
    stages.push(['handoff', (day = addWorkingDays(day, 1))]);
    stages.push(['processing', (day = addWorkingDays(day, PROCESSING_DAYS[Math.floor(r() * PROCESSING_DAYS.length)]))]);
    if (deliver) stages.push(['delivery', addWorkingDays(day, 2)]);
    const multipleSupplementRequests = r() < 0.01;
    const version = 3 + Math.floor(r() * 10);
    for (const [stage, i] of stages) {
      const due = DAYS[i].day;
      if (due < FIRST_DAY || due > LAST_DAY) continue;
      // Processing ends with the day (00:00 next day); the post's stages at 17:00.
      const dueAt = stage === 'processing' ? dayStart(due) + DAY_MS : dayStart(due) + 17 * 3600_000;
      const state = stateOf(r, stage, dueAt);
      const completedAt =
        state === 'met_on_time' ? dueAt - Math.floor(r() * 3 * DAY_MS) : state === 'met_late' ? dueAt + Math.floor(1 + r() * 5 * DAY_MS) : null;
      const late = state === 'met_late' || state === 'overdue';
      const supplementWorkingDays = stage === 'processing' && r() < 0.05 ? 2 + Math.floor(r() * 4) : 0;
      yield {
        _id: `${code}:${stage}`,
        dossierCode: code,
        version,
        stage,
        owner: OWNER[stage],
        agencyId: agency.id,
        procedureCode,
        district,
        startedAt: new Date(dueAt - (2 + Math.floor(r() * 10)) * DAY_MS),
        dueAt: new Date(dueAt),
        dueDay: due,
        dueMonth: due.slice(0, 7),
        revisedDueAt: stage === 'processing' && late && r() < 0.3 ? new Date(dueAt + 5 * DAY_MS) : null,
        completedAt: completedAt === null ? null : new Date(completedAt),
        state,
        atRisk: stage === 'processing' && r() < 0.1,
        supplementWorkingDays,
        multipleSupplementRequests,
        // Decision 766's due: the due plus the time the clock stood still (calendar days here).
        indexDueAt: stage === 'processing' ? new Date(dueAt + supplementWorkingDays * DAY_MS) : null,
        dossierStatus: statusOf(state, stage),
      };
    }
  }
}

function stateOf(r: () => number, stage: Stage, dueAt: number): DeadlineDoc['state'] {
  const x = r();
  if (dueAt > NOW) return x < 0.15 ? 'met_on_time' : 'open';
  const recent = NOW - dueAt < 45 * DAY_MS;
  if (stage === 'processing') return x < 0.85 ? 'met_on_time' : x < 0.95 ? 'met_late' : recent ? 'overdue' : x < 0.955 ? 'overdue' : 'met_late';
  return x < 0.95 ? 'met_on_time' : x < 0.995 ? 'met_late' : 'overdue';
}

function statusOf(state: DeadlineDoc['state'], stage: Stage): DossierStatus {
  if (state === 'open' || state === 'overdue') return stage === 'pickup' ? 'awaiting_pickup' : stage === 'delivery' ? 'out_for_delivery' : 'processing';
  return stage === 'delivery' ? 'delivered' : 'closed';
}

/** The first `n` records of the stream, in batches. */
export function* batches(n: number, size: number, seed?: number): Generator<DeadlineDoc[]> {
  let batch: DeadlineDoc[] = [];
  let i = 0;
  for (const d of deadlines(seed)) {
    if (i++ >= n) break;
    batch.push(d);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
