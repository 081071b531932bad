/**
 * The run's report: a section of docs/RELIABILITY.md, one per mode (one
 * worker and one API, or scale-out), between markers. A run replaces its own
 * section and keeps the rest of the file (the other mode's, the hand-written reading).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, toolPaths } from '../servers';
import { PATHS } from './journeys';
import { log, run, secs } from './run';

/** Our FerretDB wrapper has no --version: the module it pins says. */
function ferretVersion(): string {
  try {
    return /FerretDB\/FerretDB (v\S+)/.exec(fs.readFileSync(path.join(REPO_ROOT, 'tools', 'ferretdb', 'go.mod'), 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

function versions(): string {
  const tools = toolPaths();
  const version = (bin: string | null, args: string[]) => {
    if (!bin) return '?';
    try {
      return execFileSync(bin, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
    } catch {
      return '?';
    }
  };
  const cpus = os.cpus();
  return [
    `- Machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min; other work on the machine counts too)`,
    `- Node ${process.version}; Temporal CLI: ${version(tools.temporal, ['--version'])}; FerretDB: ${ferretVersion()} (SQLite)`,
  ].join('\n');
}

function statusCounts(from: number, to: number, api?: number): string {
  const counts = new Map<number, number>();
  for (const a of run.answers) if (a.at >= from && a.at <= to && (api === undefined || a.api === api)) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a - b).map(([s, n]) => `${s === 0 ? 'no answer' : s}: ${n}`).join(', ') || '—';
}

/** Per status: how many, and the answer's time p50 / p90 / max (ms). */
function submissionTimes(): string {
  const by = new Map<number, number[]>();
  for (const a of run.answers) if (a.what === 'submission' && a.status !== 0) by.set(a.status, [...(by.get(a.status) ?? []), a.ms]);
  const at = (ms: number[], q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
  return (
    [...by]
      .sort(([a], [b]) => a - b)
      .map(([status, ms]) => {
        ms.sort((x, y) => x - y);
        return `${status}: ${ms.length}, ${at(ms, 0.5)} / ${at(ms, 0.9)} / ${ms.at(-1)} ms`;
      })
      .join('; ') || '—'
  );
}

const MODES = {
  single: { title: 'one worker, one API', marker: 'chaos-run' },
  scaleOut: { title: 'scale-out: two workers, two APIs', marker: 'chaos-run-scale-out' },
};

export function reportLines(startedAt: Date, durationMs: number): string[] {
  const { opts, journeys, faultsRun, checkResults, answers } = run;
  const mode = opts.scaleOut ? MODES.scaleOut : MODES.single;
  const done = journeys.filter((j) => j.outcome === 'done' && j.path !== 'probe').length;
  const driven = journeys.filter((j) => j.path !== 'probe');
  const final = checkResults.at(-1);
  const slowest = (from: number, to: number, events = false) =>
    Math.max(0, ...answers.filter((a) => a.at >= from && a.at <= to && a.status !== 0 && (!events || a.what.startsWith('event'))).map((a) => a.ms));
  return [
    `## The chaos run: ${mode.title}`,
    '',
    `Written by \`npm run chaos${opts.scaleOut ? ' -- --scale-out' : ''}\` (scripts/chaos/); rerun it to refresh this section. What it does and checks is described in scripts/chaos/index.ts.`,
    '',
    `Run of ${startedAt.toISOString()}: ${opts.dossiers} dossiers requested, ${opts.concurrency} concurrent clients${opts.scaleOut ? ` spread over ${run.apiUrls.length} APIs (requests in turn), 2 workers on one task queue` : ''}, ${opts.faults.includes('ferretdb-pause') ? `FerretDB pause ${secs(opts.pauseMs)} s, ` : ''}faults ${opts.faults.join(', ') || 'none'}; ${secs(durationMs)} s in all; ${run.bundle || '?'}.`,
    '',
    versions(),
    '',
    '### Faults',
    '',
    "| Fault | How | Answers during the fault (until recovered) | Slowest answer (ms) | Slowest event answer, sent within 30 s of the fault (ms) | Submissions accepted again after the dependency's return (s) | Killed worker or API serving again after the kill (s) |",
    '|---|---|---|---|---|---|---|',
    ...faultsRun.map((f) => {
      const end = Math.max(f.recoveredAt ?? Date.now(), f.servingAgainAt ?? 0);
      const serving = f.fault === 'worker' || f.fault === 'api' ? (f.servingAgainAt ? secs(f.servingAgainAt - f.injectedAt) : 'not serving') : '—';
      return `| ${f.fault} | ${f.note} | ${statusCounts(f.injectedAt, end)} | ${slowest(f.injectedAt, end)} | ${slowest(f.injectedAt, Math.max(end, f.injectedAt + 30_000), true)} | ${f.recoveredAt ? secs(f.recoveredAt - f.backAt) : 'not recovered'} | ${serving} |`;
    }),
    '',
    '### Dossiers',
    '',
    `${driven.length} journeys driven, ${done} completed their path; acknowledged submissions: ${run.acknowledged.size}; acknowledged events: ${run.ackedEvents.size}; submissions answered 503 (not retried): ${run.refused.size}.`,
    '',
    '| Path | Driven | Completed |',
    '|---|---|---|',
    ...PATHS.map((p) => `| ${p} | ${driven.filter((j) => j.path === p).length} | ${driven.filter((j) => j.path === p && j.outcome === 'done').length} |`),
    '',
    ...(driven.some((j) => j.outcome !== 'done')
      ? ['Journeys that did not complete (first 10):', '', ...driven.filter((j) => j.outcome !== 'done').slice(0, 10).map((j) => `- ${j.path}: ${j.outcome}`), '']
      : []),
    `All answers: ${statusCounts(0, Number.MAX_SAFE_INTEGER)}.`,
    '',
    `Submission answers (API_REGISTRATION_WAIT_MS ${process.env.API_REGISTRATION_WAIT_MS ?? 'default'}): ${submissionTimes()}.`,
    ...(run.sticky
      ? [
          '',
          `Workflow tasks (from the histories): ${run.sticky.tasks} over ${run.sticky.dossiers} dossiers; ${run.sticky.stickyTimeouts} waited out a sticky queue ` +
            `(WORKER_STICKY_QUEUE_TIMEOUT_MS ${process.env.WORKER_STICKY_QUEUE_TIMEOUT_MS ?? 'default'}) and ran again from the normal queue; ${run.sticky.startedTimeouts} were taken by a worker that did not complete them within the workflow task timeout (a worker killed with the task).`,
        ]
      : []),
    ...(run.apiUrls.length > 1 ? ['', ...run.apiUrls.map((_, i) => `- API ${i + 1}: ${statusCounts(0, Number.MAX_SAFE_INTEGER, i)}`)] : []),
    '',
    '### Checks',
    '',
    `| Check | ${checkResults.map((c) => c.after).join(' | ')} |`,
    `|---|${checkResults.map(() => '---').join('|')}|`,
    ...Object.keys(final?.results ?? {}).map((k) => `| ${k} | ${checkResults.map((c) => (c.results[k]?.length ? `**${c.results[k].length} failed**` : 'ok')).join(' | ')} |`),
    '',
    ...(final && Object.values(final.results).some((p) => p.length)
      ? ['Failures at the end (first 5 of each):', '', ...Object.entries(final.results).filter(([, p]) => p.length).map(([k, p]) => `- ${k}: ${p.slice(0, 5).join('; ')}`), '']
      : []),
  ];
}

/** Replaces this mode's section of the report file (between its markers), or adds it before the hand-written part. */
export function writeReport(startedAt: Date, durationMs: number): void {
  const file = run.opts.report;
  if (!file) return;
  const { marker } = run.opts.scaleOut ? MODES.scaleOut : MODES.single;
  const begin = `<!-- ${marker}: written by npm run chaos -->`;
  const end = `<!-- /${marker} -->`;
  const section = [begin, ...reportLines(startedAt, durationMs), end].join('\n');
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Reliability: the chaos runs\n';
  const from = old.indexOf(begin);
  const to = old.indexOf(end);
  let text: string;
  if (from >= 0 && to > from) text = old.slice(0, from) + section + old.slice(to + end.length);
  else {
    const reading = old.indexOf('\n## Reading the runs');
    text = reading >= 0 ? `${old.slice(0, reading)}\n${section}\n${old.slice(reading)}` : `${old.trimEnd()}\n\n${section}\n`;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  log(`report written to ${path.relative(process.cwd(), file)}`);
}
