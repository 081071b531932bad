/** What a chaos run does: from the environment and the command line (`npm run chaos -- --scale-out`). */
import path from 'node:path';
import { REPO_ROOT } from '../servers';

export const ALL_FAULTS = ['worker', 'temporal', 'ferretdb-pause', 'ferretdb-kill', 'api'] as const;
export type Fault = (typeof ALL_FAULTS)[number];
/** Scale-out: one of the two workers and one of the two APIs killed under load; the other serves meanwhile. */
export const SCALE_OUT_FAULTS: Fault[] = ['worker', 'api'];

export interface ChaosOptions {
  dossiers: number;
  concurrency: number;
  pauseMs: number;
  faults: Fault[];
  /** The file whose section for this mode the report replaces (the rest is kept); null for none. */
  report: string | null;
  /** Two workers and two APIs (clients spread over both) instead of one of each. */
  scaleOut?: boolean;
}

function intFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const raw = env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not '${raw}'`);
  return n;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv.slice(2)): ChaosOptions {
  const unknown = argv.filter((a) => a !== '--scale-out');
  if (unknown.length) throw new Error(`unknown arguments: ${unknown.join(' ')} (known: --scale-out)`);
  const scaleOut = argv.includes('--scale-out');
  return {
    dossiers: intFromEnv('CHAOS_DOSSIERS', 1000, env),
    concurrency: Math.max(1, intFromEnv('CHAOS_CONCURRENCY', 25, env)),
    pauseMs: intFromEnv('CHAOS_PAUSE_SECONDS', 60, env) * 1000,
    faults: (env.CHAOS_FAULTS ?? (scaleOut ? SCALE_OUT_FAULTS : ALL_FAULTS).join(','))
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean)
      .map((f) => {
        if (!(ALL_FAULTS as readonly string[]).includes(f)) throw new Error(`CHAOS_FAULTS: unknown fault '${f}' (known: ${ALL_FAULTS.join(', ')})`);
        return f as Fault;
      }),
    report: env.CHAOS_REPORT ? path.resolve(env.CHAOS_REPORT) : path.join(REPO_ROOT, 'docs', 'RELIABILITY.md'),
    scaleOut,
  };
}
