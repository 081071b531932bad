/**
 * Where the CPU goes in `npm run bench:lifecycle`: CPU seconds of each
 * process of the stack from /proc (Linux), read at a phase's start and end.
 * The parsing is pure so it is unit-tested (test/unit/bench-lifecycle-stats.test.ts).
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks: the process and its children it has waited for. */
  ticks: number;
}

/**
 * One line of /proc/<pid>/stat. The command (field 2) is in parentheses and
 * may hold spaces and parentheses, so the fields are counted from the last ')'.
 */
export function parseProcStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number(line.slice(0, line.indexOf(' ')));
  // After ')': state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
  const f = line.slice(close + 2).split(' ');
  const at = (field: number) => Number(f[field - 3]);
  const ticks = at(14) + at(15) + at(16) + at(17);
  if (!Number.isFinite(pid) || !Number.isFinite(ticks)) return null;
  return { pid, ppid: at(4), ticks };
}

/** Sum of the ticks of `root` and its live descendants (a wrapper's work is in its children). */
export function treeTicks(stats: readonly ProcStat[], root: number): number {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let total = 0;
  const stack = stats.filter((s) => s.pid === root);
  while (stack.length) {
    const s = stack.pop()!;
    total += s.ticks;
    stack.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

/** The machine's busy time (everything but idle and iowait), in ticks, from the first line of /proc/stat. */
export function parseMachineBusy(procStat: string): number {
  const cpu = procStat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest is already in user).
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return user + nice + system + irq + softirq + steal;
}

let clockTicks: number | null = null;
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = parseProcStat(fs.readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (s) out.push(s);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** CPU seconds per named process at one moment; `bench` is this process alone (its children are named apart), `machine` every core's busy time. */
export type CpuReading = Record<string, number>;

export function readCpu(pids: Record<string, number>): CpuReading {
  const hz = ticksPerSecond();
  const stats = allStats();
  const reading: CpuReading = {};
  for (const [name, pid] of Object.entries(pids)) reading[name] = treeTicks(stats, pid) / hz;
  const self = process.cpuUsage();
  reading.bench = (self.user + self.system) / 1e6;
  try {
    reading.machine = parseMachineBusy(fs.readFileSync('/proc/stat', 'utf8')) / hz;
  } catch {
    reading.machine = Number.NaN;
  }
  return reading;
}

/** CPU seconds each process spent between two readings (NaN where one is missing). */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuReading {
  const out: CpuReading = {};
  for (const k of Object.keys(after)) out[k] = after[k]! - (before[k] ?? Number.NaN);
  return out;
}
