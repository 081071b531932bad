/**
 * A part of `npm start` (scripts/start.ts) kept running: a child started by
 * `launch` (which resolves once it is up) and started again when it dies unasked,
 * after 1 s, doubling up to 30 s while it keeps dying, back to 1 s once it has run
 * for a minute. The supervisor's state (ready, stopping) and actions (shutdown,
 * recording the children) come in as hooks, so this module holds none of it.
 */
import { exitSummary, type ExitInfo } from './servers';

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** A part that ran this long before dying starts again after FIRST_BACKOFF_MS. */
const STABLE_MS = 60_000;
const SERVER_RESTART_ATTEMPTS = 5;

/** One running process of a part. */
export interface Running {
  pid: number;
  logFile: string | null;
  exited: Promise<ExitInfo>;
  stop(): Promise<void>;
}

/** What a part reaches in its supervisor. */
export interface SupervisorHooks {
  /** Everything came up once: from then on a death is restarted, before it stops everything. */
  isReady(): boolean;
  /** Everything is being stopped: nothing is started again. */
  isStopping(): boolean;
  shutdown(code: number, line: string): Promise<never>;
  /** A part's process started or ended. */
  recordChildren(): void;
  say(line: string): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const firstLine = (err: unknown) => (err instanceof Error ? err.message.split('\n')[0]! : String(err));

export class Part {
  current: Running | null = null;
  private crashes = 0;
  since = 0;

  constructor(
    readonly role: string,
    readonly kind: 'server' | 'app',
    readonly ports: number[],
    private readonly launch: () => Promise<Running>,
    private readonly hooks: SupervisorHooks,
  ) {}

  async start(): Promise<void> {
    this.adopt(await this.launch());
  }

  stop(): Promise<void> {
    return this.current?.stop() ?? Promise.resolve();
  }

  private adopt(running: Running): void {
    this.current = running;
    this.since = Date.now();
    this.hooks.recordChildren();
    void running.exited.then((info) => this.exited(running, info));
    // Started while everything was being stopped: stop it too.
    if (this.hooks.isStopping()) void running.stop();
  }

  private exited(running: Running, info: ExitInfo): void {
    if (this.current !== running) return;
    this.current = null;
    this.hooks.recordChildren();
    if (this.hooks.isStopping()) return;
    const what = exitSummary(this.role, info, running.logFile);
    if (!this.hooks.isReady()) {
      void this.hooks.shutdown(1, `${what} — stopping everything`);
      return;
    }
    if (Date.now() - this.since >= STABLE_MS) this.crashes = 0;
    void this.restart(what);
  }

  private async restart(what: string): Promise<void> {
    for (let failedStarts = 0; ; ) {
      const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this.crashes);
      this.crashes += 1;
      this.hooks.say(`${what} — starting it again in ${delay / 1000} s`);
      await sleep(delay);
      if (this.hooks.isStopping()) return;
      try {
        this.adopt(await this.launch());
        this.hooks.say(`${this.role} started again (pid ${this.current?.pid ?? '?'})`);
        return;
      } catch (err) {
        failedStarts += 1;
        if (this.kind === 'server' && failedStarts >= SERVER_RESTART_ATTEMPTS) {
          void this.hooks.shutdown(1, `${this.role} could not be started again (${failedStarts} attempts): ${firstLine(err)} — stopping everything`);
          return;
        }
        what = `${this.role} could not be started again: ${firstLine(err)}`;
      }
    }
  }
}
