/**
 * What the read model's driver says about its server and pool, counted from
 * its own monitoring events (CMAP and SDAM), so an outage can be told apart
 * from a client that no longer serves: the server's type as the driver sees
 * it, the pool cleared and ready again, connections checked out and not back,
 * checkouts that failed and why, heartbeats. For logs and /readyz.
 */
import type { MongoClient } from 'mongodb';

export interface PoolSnapshot {
  /** The driver's view of the server (Standalone, Unknown, ...). */
  server: string;
  /** Connections checked out and not checked in again. */
  checkedOut: number;
  /** Connections open (created and not yet closed). */
  open: number;
  poolCleared: number;
  poolReady: number;
  /** Checkout failures by reason (timeout, connectionError, poolClosed). */
  checkOutFailed: Record<string, number>;
  /** Connections closed, by reason (error, stale, idle, poolClosed). */
  closed: Record<string, number>;
  heartbeatsFailed: number;
  heartbeatsSucceeded: number;
  /** The last heartbeat's outcome and when (ISO), the failure's message if it failed. */
  lastHeartbeat: { at: string; ok: boolean; error?: string } | null;
}

export class PoolWatch {
  private server = 'Unknown';
  private checkedOut = 0;
  private open = 0;
  private poolCleared = 0;
  private poolReady = 0;
  private readonly checkOutFailed: Record<string, number> = {};
  private readonly closed: Record<string, number> = {};
  private heartbeatsFailed = 0;
  private heartbeatsSucceeded = 0;
  private lastHeartbeat: PoolSnapshot['lastHeartbeat'] = null;

  /** `onChange` hears the pool cleared and ready again and the server's type changing (for a log line). */
  constructor(client: MongoClient, onChange?: (what: string, snapshot: PoolSnapshot) => void) {
    const told = (what: string) => onChange?.(what, this.snapshot());
    client.on('connectionCreated', () => this.open++);
    client.on('connectionClosed', (e) => {
      this.open--;
      this.closed[e.reason] = (this.closed[e.reason] ?? 0) + 1;
    });
    client.on('connectionCheckedOut', () => this.checkedOut++);
    client.on('connectionCheckedIn', () => this.checkedOut--);
    client.on('connectionCheckOutFailed', (e) => {
      this.checkOutFailed[e.reason] = (this.checkOutFailed[e.reason] ?? 0) + 1;
    });
    client.on('connectionPoolCleared', () => {
      this.poolCleared++;
      told('pool cleared');
    });
    client.on('connectionPoolReady', () => {
      this.poolReady++;
      told('pool ready');
    });
    client.on('serverHeartbeatSucceeded', () => {
      this.heartbeatsSucceeded++;
      this.lastHeartbeat = { at: new Date().toISOString(), ok: true };
    });
    client.on('serverHeartbeatFailed', (e) => {
      this.heartbeatsFailed++;
      this.lastHeartbeat = { at: new Date().toISOString(), ok: false, error: e.failure.message };
    });
    client.on('serverDescriptionChanged', (e) => {
      if (e.newDescription.type === e.previousDescription.type) return;
      this.server = e.newDescription.type;
      told(`server ${e.previousDescription.type} -> ${e.newDescription.type}`);
    });
  }

  snapshot(): PoolSnapshot {
    return {
      server: this.server,
      checkedOut: this.checkedOut,
      open: this.open,
      poolCleared: this.poolCleared,
      poolReady: this.poolReady,
      checkOutFailed: { ...this.checkOutFailed },
      closed: { ...this.closed },
      heartbeatsFailed: this.heartbeatsFailed,
      heartbeatsSucceeded: this.heartbeatsSucceeded,
      lastHeartbeat: this.lastHeartbeat,
    };
  }
}
