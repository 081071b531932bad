/**
 * One chaos run's records (one run per process: runChaos resets them) and the
 * client's calls to the API, each answer recorded.
 */
import { signToken } from '../../api/auth';
import type { ChaosOptions, Fault } from './options';
import type { StickyCount } from './sticky';

export const SECRET = 'chaos-run-secret-of-at-least-32-characters';
const REQUEST_TIMEOUT_MS = 30_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const log = (line: string) => console.log(`chaos: ${line}`);
export const secs = (ms: number) => (ms / 1000).toFixed(1);

export interface Answer {
  at: number;
  method: string;
  what: string;
  status: number;
  ms: number;
  /** Which API answered (its index), for the scale-out run. */
  api: number;
}

export interface FaultRun {
  fault: Fault;
  /** The process killed or paused (its role in data/children.json). */
  target: string;
  injectedAt: number;
  backAt: number;
  recoveredAt: number | null;
  /** The killed worker or API serving again (polling, or answering), started by the supervisor. */
  servingAgainAt: number | null;
  note: string;
}

export interface Journey {
  code: string;
  path: string;
  outcome: string;
}

export const run = {
  opts: { dossiers: 0, concurrency: 1, pauseMs: 0, faults: [], report: null } as ChaosOptions,
  t0: Date.now(),
  apiUrls: [] as string[],
  answers: [] as Answer[],
  /** Codes whose submission was acknowledged (200, 201 or 202). */
  acknowledged: new Set<string>(),
  /** Codes whose only submission answer was 503 (never retried): nothing may exist for them. */
  refused: new Set<string>(),
  /** eventId → dossier code, for acknowledged events. */
  ackedEvents: new Map<string, string>(),
  journeys: [] as Journey[],
  faultsRun: [] as FaultRun[],
  checkResults: [] as { after: string; results: Record<string, string[]> }[],
  requests: 0,
  /** How the workers got the workflow code: the supervisor's bundle (and its build time), or each bundling its own. */
  bundle: '',
  /** Workflow tasks that timed out on a sticky queue, counted from the histories at the end. */
  sticky: null as StickyCount | null,
};

export function resetRun(opts: ChaosOptions): void {
  Object.assign(run, {
    opts,
    t0: Date.now(),
    apiUrls: [],
    answers: [],
    acknowledged: new Set(),
    refused: new Set(),
    ackedEvents: new Map(),
    journeys: [],
    faultsRun: [],
    checkResults: [],
    requests: 0,
    bundle: '',
    sticky: null,
  });
}

/** How long one journey step may keep retrying through a fault. */
export const stepTimeoutMs = () => Math.max(180_000, run.opts.pauseMs * 3);

export const tokens = {
  portal: signToken(SECRET, { sub: 'chaos-portal', role: 'portal' }, 24 * 3600),
  manager: signToken(SECRET, { sub: 'chaos-manager', role: 'manager' }, 24 * 3600),
  clerk: signToken(SECRET, { sub: 'chaos-clerk', role: 'clerk' }, 24 * 3600),
  agency: (agencyId: string) => signToken(SECRET, { sub: `chaos-${agencyId}`, role: 'agency', agencyId }, 24 * 3600),
  courier: (courierId: string) => signToken(SECRET, { sub: `chaos-${courierId}`, role: 'courier', courierId }, 24 * 3600),
};

/** One request, recorded; with several APIs, the requests go round them in turn (as a load balancer would). */
export async function call(method: string, what: string, urlPath: string, token: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const start = Date.now();
  const api = run.requests++ % Math.max(1, run.apiUrls.length);
  let status: number;
  let parsed: unknown = null;
  try {
    const res = await fetch(`${run.apiUrls[api]}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    status = res.status;
    const text = await res.text();
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
  } catch {
    status = 0; // no answer: refused connection or our own deadline
  }
  run.answers.push({ at: start, method, what, status, ms: Date.now() - start, api });
  return { status, body: parsed };
}

export const retryable = (status: number) => status === 0 || status === 503 || status === 502 || status === 504 || status === 429;
