/**
 * The record of what `npm start` runs (data/children.json), so that a start
 * after a hard-killed one can stop what the earlier one left behind, and the
 * lookups that make that safe: a recorded pid is only ever signalled when the
 * process there still has the recorded command line and runs in this folder
 * (pids are reused). Linux (/proc) only; elsewhere nothing is stopped and the
 * messages say which pids to look at.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './servers';

export interface ChildRecord {
  role: string;
  pid: number;
  /** Its process group (each child leads its own), signalled as a whole. */
  pgid: number;
  ports: number[];
  started: string;
  /** NUL-separated argv as /proc shows it; null where /proc is not available. */
  cmdline: string | null;
}

export interface ChildrenFile {
  supervisor: Omit<ChildRecord, 'role' | 'pgid' | 'ports'>;
  children: ChildRecord[];
}

export function cmdlineOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return null;
  }
}

function cwdOf(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Still the process we recorded: alive, same argv, running in this folder. */
export function isOurs(rec: { pid: number; cmdline: string | null }): boolean {
  if (!rec.cmdline || !isAlive(rec.pid)) return false;
  return cmdlineOf(rec.pid) === rec.cmdline && cwdOf(rec.pid) === REPO_ROOT;
}

export const describeCmdline = (cmdline: string | null) =>
  (cmdline ?? '?').split('\0').filter(Boolean).map((a) => path.basename(a)).join(' ').slice(0, 100);

export function readChildren(file: string): ChildrenFile | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ChildrenFile;
  } catch {
    return null;
  }
}

export function writeChildren(file: string, record: ChildrenFile): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader is gone. */
export async function stopGroup(pgid: number, graceMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const until = Date.now() + graceMs;
  while (isAlive(pgid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pgid)) signal('SIGKILL');
  while (isAlive(pgid) && Date.now() < until + 5000) await new Promise((r) => setTimeout(r, 100));
}

/** Pids listening on a TCP port (any address), from /proc; empty where that cannot be read. */
export function portHolders(port: number): { pid: number; command: string }[] {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN.
      if (cols.length > 9 && cols[3] === '0A' && parseInt(cols[1]!.split(':')[1]!, 16) === port) inodes.add(cols[9]!);
    }
  }
  if (!inodes.size) return [];
  const holders: { pid: number; command: string }[] = [];
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        holders.push({ pid: Number(pid), command: describeCmdline(cmdlineOf(Number(pid))) });
        break;
      }
    }
  }
  return holders;
}
