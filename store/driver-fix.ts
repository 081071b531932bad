/**
 * A fix to the MongoDB driver (mongodb 7.9.0), applied in this process until
 * the driver has its own; `boundedMongoClient` installs it.
 *
 * The driver writes a command and, when `socket.write` returns false, waits
 * for the socket's 'drain' or 'error' with no other way out than the
 * operation's timeout or signal. Node destroys a socket whose peer has closed
 * (after the FIN, once its own side has shut down) a little before it
 * delivers 'close', which is when the driver learns of it: a command written
 * in that gap goes to a destroyed socket, whose write returns false and emits
 * neither 'drain' nor 'error', ever. An application call then ends only at its
 * deadline, but the server monitor's heartbeat has neither timeout nor signal:
 * it never ends, the monitor never checks the server again, and once a failed
 * call has marked the server Unknown no call is ever sent again, while the
 * server answers everyone else. That is how the API stayed on 503 for
 * 8 minutes after a FerretDB kill in the chaos run of 2026-12-02 (the check is
 * requested by the failed calls themselves, in the same gap as the monitor's
 * socket closing); docs/RELIABILITY.md has the evidence.
 *
 * The fix: a write to a destroyed socket fails at once as the network error
 * the driver gives for a closed connection, and a write waiting for 'drain'
 * fails when the socket closes. The connection is then closed the driver's own
 * way (`onError`), so the monitor's heartbeat fails and the monitor checks
 * again, as it does after any network error.
 */
import type { Socket } from 'node:net';
import { MongoNetworkError } from 'mongodb';

interface DriverConnection {
  socket: Socket;
  error: Error | null;
  id: unknown;
  address: string;
  onError(error: Error): void;
  writeCommand(command: unknown, options: unknown): Promise<void>;
}

let installed = false;

/** Idempotent. Throws when the driver no longer has what it patches (then check whether the driver fixed it). */
export function installDriverFix(): void {
  if (installed) return;
  // The driver's internal module: no public way to reach the connection's writes.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proto = (require('mongodb/lib/cmap/connection') as { Connection?: { prototype: DriverConnection } }).Connection?.prototype;
  if (typeof proto?.writeCommand !== 'function' || typeof proto.onError !== 'function') {
    throw new Error('store/driver-fix.ts: the MongoDB driver has no Connection.writeCommand/onError any more; see whether it still writes to destroyed sockets');
  }
  const write = proto.writeCommand;
  proto.writeCommand = function writeCommand(this: DriverConnection, command: unknown, options: unknown): Promise<void> {
    const socket = this.socket;
    const closed = () => new MongoNetworkError(`connection ${String(this.id)} to ${this.address} closed`);
    if (socket.destroyed) {
      const err = closed();
      this.onError(err);
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      // The connection's own 'close' listener runs first and records its error.
      const onClose = () => reject(this.error ?? closed());
      socket.once('close', onClose);
      write
        .call(this, command, options)
        .then(resolve, reject)
        .finally(() => socket.off('close', onClose));
    });
  };
  installed = true;
}
