/**
 * A TCP proxy on a free loopback port in front of a real server, to make that
 * server look paused or gone without touching its process:
 * - `pause()`: open connections stop carrying bytes and new ones are held
 *   unanswered (a stopped process: nothing answers, nothing is refused);
 * - `resume()`: everything held flows again;
 * - `cut()`: every open connection is reset (a crash); new ones work.
 */
import net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export class TcpProxy {
  private paused = false;
  private readonly pairs = new Set<Pair>();
  private readonly held: net.Socket[] = [];

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** `target` as `host:port`. */
  static async start(target: string): Promise<TcpProxy> {
    const [host, port] = splitHostPort(target);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port, { host, port });
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** `host:port` of the proxy. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.paused) {
      client.pause();
      this.held.push(client);
      return;
    }
    this.connect(client);
  }

  private connect(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    this.pairs.add(pair);
    const forget = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', forget);
    client.on('error', forget);
    client.on('close', forget);
    upstream.on('close', forget);
    // Bytes are held here while paused (as a stopped process leaves them unread), and sent on resume.
    client.on('data', (chunk: Buffer) => (this.paused ? pair.toUpstream.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => (this.paused ? pair.toClient.push(chunk) : client.write(chunk)));
    client.resume();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const pair of this.pairs) {
      for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
      for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
    }
    for (const client of this.held.splice(0)) if (!client.destroyed) this.connect(client);
  }

  /** Resets every open connection, held ones too. */
  cut(): void {
    for (const { client, upstream } of [...this.pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    for (const client of this.held.splice(0)) client.resetAndDestroy();
  }

  /** Connections currently open through the proxy (held ones included). */
  get openConnections(): number {
    return this.pairs.size + this.held.length;
  }

  async close(): Promise<void> {
    this.paused = false;
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function splitHostPort(address: string): [string, number] {
  const m = /^(?:mongodb:\/\/)?\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(address);
  if (!m) throw new Error(`not a host:port: ${address}`);
  return [m[1]!, Number(m[2])];
}
