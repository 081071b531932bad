/**
 * Under `npm start` (scripts/start.ts sets SUPERVISOR_PID): stop this process
 * once its supervisor is gone, e.g. hard-killed, so that no worker or API is
 * left running without anyone to restart or stop it. The parent pid changes
 * when the parent dies (the orphan is adopted), which is all that is watched.
 * The stop is the usual SIGTERM path, bounded by `hardStopMs`.
 */
export function stopWithSupervisor(name: string, opts: { env?: NodeJS.ProcessEnv; intervalMs?: number; hardStopMs?: number } = {}): void {
  const { env = process.env, intervalMs = 1000, hardStopMs = 15_000 } = opts;
  const supervisor = Number(env.SUPERVISOR_PID);
  if (!Number.isInteger(supervisor) || supervisor <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid === supervisor) return;
    clearInterval(timer);
    console.error(`${name}: the supervisor (pid ${supervisor}) is gone — stopping`);
    setTimeout(() => process.exit(1), hardStopMs).unref();
    process.kill(process.pid, 'SIGTERM');
  }, intervalMs);
  timer.unref();
}
