/**
 * bench:worker-kill — how long an event on a dossier the killed worker had
 * cached waits for its answer (issue #13). A workflow's tasks go to its
 * worker's sticky queue; after a kill -9 they wait there until the sticky
 * schedule-to-start timeout (WORKER_STICKY_QUEUE_TIMEOUT_MS) before the
 * server hands them to any worker.
 *
 * It runs `npm start`'s supervisor as the chaos run does (scripts/chaos/stack.ts),
 * brings WK_DOSSIERS electronic dossiers to `in_transit_to_agency` (each then
 * cached on the worker, waiting for `agency.received`), kills the worker with
 * kill -9 and sends one `agency.received` per dossier, spread over WK_SPREAD_MS
 * after the kill, each retried (same eventId) until answered. It prints each
 * event's wait and, the figure that matters, how long after both the event and
 * a worker to run it were there the answer came.
 *
 *   WK_DOSSIERS=20  WK_SPREAD_MS=12000  WK_LOCK=<file> (flock(1) held while measuring)
 *   WORKER_STICKY_QUEUE_TIMEOUT_MS is passed to the worker as any setting is.
 *   --scale-out: two workers (the other one serves while the killed one restarts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readChildren } from '../scripts/children';
import { newSubmission } from '../scripts/chaos/journeys';
import { call, resetRun, retryable, secs, sleep, tokens } from '../scripts/chaos/run';
import { pollingLines, startStack } from '../scripts/chaos/stack';
import { countStickyTimeouts } from '../scripts/chaos/sticky';
import { holdLock } from './lock';

const DOSSIERS = Number(process.env.WK_DOSSIERS ?? 20);
const SPREAD_MS = Number(process.env.WK_SPREAD_MS ?? 12_000);
const scaleOut = process.argv.includes('--scale-out');

async function ready(): Promise<string> {
  const sub = newSubmission('electronic-counter-cash');
  for (let tries = 0; ; tries++) {
    const res = await call('POST', 'submission', '/v1/dossiers', tokens.portal, sub);
    if (res.status === 200 || res.status === 201) break;
    if (tries > 60) throw new Error(`submission ${sub.code}: ${res.status}`);
    await sleep(1000);
  }
  for (let tries = 0; ; tries++) {
    const res = await call('GET', 'read', `/v1/dossiers/${sub.code}`, tokens.manager);
    if (res.status === 200 && (res.body as { status: string }).status === 'in_transit_to_agency') return sub.code;
    if (tries > 120) throw new Error(`${sub.code}: not handed off`);
    await sleep(500);
  }
}

interface Sent {
  code: string;
  sentAt: number;
  answeredAt: number;
  statuses: number[];
}

async function report(code: string, sentAt: number): Promise<Sent> {
  const statuses: number[] = [];
  for (;;) {
    const res = await call('POST', 'event agency.received', `/v1/dossiers/${code}/events`, tokens.agency('HL-UBND'), {
      type: 'agency.received',
      receiptNo: 'BN-1',
      eventId: `${code}:received`,
    });
    statuses.push(res.status);
    if (res.status >= 200 && res.status < 300) return { code, sentAt, answeredAt: Date.now(), statuses };
    if (!retryable(res.status)) throw new Error(`${code}: ${res.status} ${JSON.stringify(res.body)}`);
    await sleep(250);
  }
}

async function main(): Promise<void> {
  resetRun({ dossiers: DOSSIERS, concurrency: 1, pauseMs: 0, faults: [], report: null, scaleOut });
  const setting = process.env.WORKER_STICKY_QUEUE_TIMEOUT_MS ?? '(default)';
  console.log(`worker-kill: ${DOSSIERS} dossiers, events over ${SPREAD_MS} ms, ${scaleOut ? 2 : 1} worker(s), WORKER_STICKY_QUEUE_TIMEOUT_MS=${setting}`);
  const stack = await startStack();
  const release = await holdLock(process.env.WK_LOCK);
  try {
    const codes: string[] = [];
    while (codes.length < DOSSIERS) codes.push(...(await Promise.all(Array.from({ length: Math.min(5, DOSSIERS - codes.length) }, ready))));
    // Their last task has run on the worker: each is cached there, its next task bound to that worker's sticky queue.
    await sleep(2000);
    const worker = readChildren(path.join(stack.dataDir, 'children.json'))!.children.find((c) => c.role === 'worker')!;
    const polls = pollingLines(stack.dataDir, 'worker');
    const killedAt = Date.now();
    process.kill(worker.pid, 'SIGKILL');
    const back = (async () => {
      while (pollingLines(stack.dataDir, 'worker') <= polls) await sleep(100);
      return Date.now();
    })();
    const sent = await Promise.all(codes.map((code, i) => sleep((i * SPREAD_MS) / Math.max(1, codes.length - 1)).then(() => report(code, Date.now()))));
    const backAt = await back;
    const since = (t: number) => secs(t - killedAt);
    console.log(`worker-kill: the killed worker polled again ${since(backAt)} s after the kill`);
    console.log('| sent (s after kill) | answered (s after kill) | wait (s) | past the worker being back (s) | answers |');
    console.log('|---|---|---|---|---|');
    const past = sent.map((s) => {
      // With two workers the other one could run the event at once.
      const runnable = scaleOut ? s.sentAt : Math.max(s.sentAt, backAt);
      const p = Math.max(0, s.answeredAt - runnable);
      console.log(`| ${since(s.sentAt)} | ${since(s.answeredAt)} | ${secs(s.answeredAt - s.sentAt)} | ${secs(p)} | ${s.statuses.join(' ')} |`);
      return p;
    });
    const waits = sent.map((s) => s.answeredAt - s.sentAt).sort((a, b) => a - b);
    past.sort((a, b) => a - b);
    console.log(
      `worker-kill: RESULT sticky=${setting} workers=${scaleOut ? 2 : 1} back=${since(backAt)}s wait max=${secs(waits.at(-1)!)}s median=${secs(waits[Math.floor(waits.length / 2)]!)}s; ` +
        `past a runnable worker max=${secs(past.at(-1)!)}s median=${secs(past[Math.floor(past.length / 2)]!)}s; load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}`,
    );
    const sticky = await countStickyTimeouts(stack.temporal, codes);
    console.log(`worker-kill: histories: ${sticky.tasks} workflow tasks over ${sticky.dossiers} dossiers, ${sticky.stickyTimeouts} timed out on a sticky queue, ${sticky.startedTimeouts} started and not completed in time`);
    for (const log of fs.readdirSync(path.join(stack.dataDir, 'logs'))) {
      const text = fs.readFileSync(path.join(stack.dataDir, 'logs', log), 'utf8');
      const warnings = text.split('\n').filter((l) => /MaxListeners|memory leak/i.test(l));
      if (warnings.length) console.log(`worker-kill: ${log}: ${warnings.length} listener warning(s): ${warnings[0]!.slice(0, 300)}`);
    }
  } finally {
    release();
    await stack.stop();
    fs.rmSync(stack.dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('worker-kill:', err);
    process.exit(1);
  },
);
