/**
 * SANDBOX payment gateway: the project's own stand-in for a payment
 * provider's test mode, so the embedded system and the tests can run the
 * whole fee flow on one machine. Never for real money.
 *
 * Like a real gateway it honours `Idempotency-Key` (the same key returns the
 * first answer and charges once). Test-mode references trigger failures:
 *   reference containing DECLINE  → the capture is declined (402)
 *   reference containing SLOW     → the first request per key is captured, then answered after `slowMs`
 *   reference containing FAIL     → the first request per key answers 503 without capturing
 * and `outage(true)` makes it answer 503 to everything until `outage(false)`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SandboxCapture {
  id: string;
  reference: string;
  amountVnd: number;
  idempotencyKey: string;
  refundedVnd: number;
}

export interface PaymentSandbox {
  url: string;
  server: Server;
  captures: SandboxCapture[];
  refunds: { id: string; captureId: string; amountVnd: number; idempotencyKey: string }[];
  /** Requests received, including retries. */
  requests: { path: string; idempotencyKey: string }[];
  /** While down, every capture and refund answers 503 and changes nothing, as a gateway that is down would. */
  outage(down: boolean): void;
  close(): Promise<void>;
}

export async function startPaymentSandbox(opts: { port?: number; host?: string; slowMs?: number } = {}): Promise<PaymentSandbox> {
  const slowMs = opts.slowMs ?? 15_000;
  const answers = new Map<string, { status: number; body: unknown }>();
  const seen = new Set<string>();
  const captures: SandboxCapture[] = [];
  const refunds: PaymentSandbox['refunds'] = [];
  const requests: PaymentSandbox['requests'] = [];
  let down = false;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const key = String(req.headers['idempotency-key'] ?? '');
    const path = (req.url ?? '').split('?')[0]!;
    requests.push({ path, idempotencyKey: key });
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true, sandbox: true });
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
    if (down) return send(res, 503, { error: 'sandbox: outage' });
    if (!key) return send(res, 400, { error: 'Idempotency-Key header is required' });
    let body: { reference?: string; amountVnd?: number; captureId?: string };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return send(res, 400, { error: 'malformed JSON' });
    }
    const previous = answers.get(`${path}:${key}`);
    if (previous) return send(res, previous.status, previous.body);
    const firstTime = !seen.has(`${path}:${key}`);
    seen.add(`${path}:${key}`);

    if (path === '/v1/captures') {
      const reference = String(body.reference ?? '');
      const amountVnd = Number(body.amountVnd);
      if (!reference || !Number.isSafeInteger(amountVnd) || amountVnd <= 0) return send(res, 400, { error: 'reference and a positive amountVnd are required' });
      if (reference.includes('FAIL') && firstTime) return send(res, 503, { error: 'sandbox: temporarily unavailable' });
      if (reference.includes('DECLINE')) {
        const answer = { status: 402, body: { status: 'declined', reason: 'sandbox: insufficient funds' } };
        answers.set(`${path}:${key}`, answer);
        return send(res, answer.status, answer.body);
      }
      const capture: SandboxCapture = { id: `cap_${randomUUID()}`, reference, amountVnd, idempotencyKey: key, refundedVnd: 0 };
      captures.push(capture);
      const answer = { status: 200, body: { id: capture.id, status: 'captured', amountVnd } };
      answers.set(`${path}:${key}`, answer);
      if (reference.includes('SLOW') && firstTime) await new Promise((r) => setTimeout(r, slowMs));
      return send(res, answer.status, answer.body);
    }
    if (path === '/v1/refunds') {
      const capture = captures.find((c) => c.id === body.captureId);
      const amountVnd = Number(body.amountVnd);
      if (!capture) return send(res, 404, { error: 'unknown capture' });
      if (!Number.isSafeInteger(amountVnd) || amountVnd <= 0 || amountVnd > capture.amountVnd - capture.refundedVnd) {
        return send(res, 422, { error: 'refund exceeds the captured amount' });
      }
      capture.refundedVnd += amountVnd;
      const refund = { id: `ref_${randomUUID()}`, captureId: capture.id, amountVnd, idempotencyKey: key };
      refunds.push(refund);
      const answer = { status: 200, body: { id: refund.id, status: 'refunded', amountVnd } };
      answers.set(`${path}:${key}`, answer);
      return send(res, answer.status, answer.body);
    }
    return send(res, 404, { error: 'not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { error: 'sandbox failure' }));
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    captures,
    refunds,
    requests,
    outage: (value) => {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (require.main === module) {
  const port = Number(process.env.PORT ?? 3100);
  startPaymentSandbox({ port, host: '127.0.0.1' }).then(
    (sandbox) => {
      console.log(`payment sandbox (test mode, no real money) on ${sandbox.url}`);
      const stop = () => void sandbox.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err: Error) => {
      console.error(`payment sandbox: cannot listen on port ${port}: ${err.message}`);
      process.exit(1);
    },
  );
}
