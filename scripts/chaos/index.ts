/**
 * `npm run chaos`: a repeatable fault-injection run against the embedded stack.
 *
 * It runs `npm start`'s supervisor (scripts/start.ts) on free ports with its
 * data in a temporary folder, and the sandbox payment gateway in this process
 * (so its captures can be compared with the ledger). Concurrent clients drive
 * CHAOS_DOSSIERS dossiers (default 1000) through the public API along every
 * path: collect+deliver prepaid, the same with a supplement request,
 * electronic with counter collection and cash, a pickup failure, a declined
 * prepaid capture. The dossiers come in waves; during each wave one fault is
 * injected: kill -9 of the worker, kill -9 of the Temporal server, FerretDB
 * paused (SIGSTOP) for CHAOS_PAUSE_SECONDS (default 60), FerretDB killed,
 * kill -9 of the API. The supervisor starts what was killed again; this
 * script measures how long until a new submission is accepted again, and how
 * long until a killed worker polls (or a killed API answers) again.
 *
 * `npm run chaos -- --scale-out`: two workers on one task queue and two APIs,
 * against the one Temporal server and read model; the clients' requests go to
 * the APIs in turn. The faults (by default) kill -9 one worker, then one API,
 * under load, while the other keeps serving.
 *
 * After each wave and at the end it checks, from its own records of what the
 * API acknowledged: every acknowledged submission and event exists exactly
 * once (workflow query view, read model, timeline); the read model equals the
 * workflow's view; each ledger entry matches one gateway capture and each
 * capture one ledger entry; no courier job twice; the compliance summary
 * equals a count over the deadline records, and its one aggregator runs; no
 * answer was a 500; a submission answered 503 (never retried here) left no
 * workflow and no capture. The report replaces this mode's section of
 * docs/RELIABILITY.md (CHAOS_REPORT to write elsewhere).
 *
 * Environment: CHAOS_DOSSIERS, CHAOS_CONCURRENCY (default 25), CHAOS_PAUSE_SECONDS,
 * CHAOS_FAULTS (comma-separated subset of worker,temporal,ferretdb-pause,ferretdb-kill,api).
 *
 * Modules: options (what to run), run (records, the API calls), journeys (the
 * clients), stack (the supervisor and the faults), checks, report.
 */
import fs from 'node:fs';
import { verify } from './checks';
import { runPool } from './journeys';
import { optionsFromEnv, type ChaosOptions } from './options';
import { writeReport } from './report';
import { log, resetRun, run, sleep, type FaultRun, type Journey } from './run';
import { inject, startStack, stopStarting, type Stack } from './stack';
import { countStickyTimeouts } from './sticky';

export { optionsFromEnv, type ChaosOptions, type Fault } from './options';

export interface ChaosOutcome {
  /** Failures per check after the last wave; empty lists when all held. */
  failures: Record<string, string[]>;
  /** Every wave's checks, in order. */
  checks: { after: string; results: Record<string, string[]> }[];
  faults: FaultRun[];
  journeys: Journey[];
}

/** Runs once at a time per process (the records are module state). */
export async function runChaos(options: ChaosOptions): Promise<ChaosOutcome> {
  resetRun(options);
  const opts = run.opts;
  const startedAt = new Date();
  log(`${opts.dossiers} dossiers, ${opts.concurrency} clients${opts.scaleOut ? ', 2 workers and 2 APIs' : ''}, faults: ${opts.faults.join(', ') || 'none'}`);
  let stack: Stack | null = null;
  const interrupted = () => {
    log('interrupted: stopping the stack');
    writeReport(startedAt, Date.now() - startedAt.getTime());
    if (!stack) stopStarting();
    void (stack?.stop() ?? sleep(10_000)).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  stack = await startStack();
  try {
    const waves = opts.faults.length + 1;
    for (let w = 0; w < waves; w++) {
      const count = Math.floor(opts.dossiers / waves) + (w < opts.dossiers % waves ? 1 : 0);
      const fault = opts.faults[w - 1];
      log(`wave ${w + 1}/${waves}: ${count} dossiers${fault ? `, fault ${fault}` : ''}`);
      const driving = runPool(count, w);
      // Inject once the wave is well under way.
      if (fault) await sleep(3000).then(() => inject(stack, fault));
      await driving;
      await verify(stack, fault ? `${fault}` : 'no fault');
    }
    await verify(stack, 'end');
    run.sticky = await countStickyTimeouts(stack.temporal, [...run.acknowledged]);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    writeReport(startedAt, Date.now() - startedAt.getTime());
    await stack.stop();
  }
  const failures = run.checkResults.at(-1)?.results ?? {};
  // The servers' data and logs are kept when something failed, to look into.
  const failed = run.checkResults.some((c) => Object.values(c.results).some((p) => p.length)) || run.journeys.some((j) => j.outcome !== 'done');
  if (failed) log(`data and logs kept in ${stack.dataDir}`);
  else fs.rmSync(stack.dataDir, { recursive: true, force: true });
  return { failures, checks: run.checkResults, faults: run.faultsRun, journeys: run.journeys };
}

if (require.main === module) {
  runChaos(optionsFromEnv()).then(
    (outcome) => process.exit(Object.values(outcome.failures).some((p) => p.length) ? 1 : 0),
    (err: unknown) => {
      console.error('chaos:', err);
      process.exit(2);
    },
  );
}
