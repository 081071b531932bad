/**
 * Which errors the API answers 503 (a dependency is down) rather than 500: a
 * FerretDB killed mid-write reached the handler as a bare socket error.
 */
import net from 'node:net';
import { isUnavailable } from '../../api/problem';

/** The error Node gives a write to a socket the other side has ended, as the driver let it through. */
async function writeAfterPeerEnded(): Promise<Error> {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined); // the same error is also emitted; the write's callback gets it
  await new Promise((r) => socket.once('end', r));
  const err = await new Promise<Error>((resolve) => socket.write('x', (e) => resolve(e as Error)));
  socket.destroy();
  await new Promise((r) => server.close(r));
  return err;
}

test('a write to a socket the database ended is a dependency failure (503), not a 500', async () => {
  const err = await writeAfterPeerEnded();
  expect(err.message).toMatch(/ended by the other party/);
  expect(isUnavailable(err)).toBe(true);
});

test('socket failures by their code, also as the cause of another error', () => {
  for (const code of ['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']) {
    expect(isUnavailable(Object.assign(new Error(code), { code }))).toBe(true);
    expect(isUnavailable(new Error('wrapped', { cause: Object.assign(new Error(code), { code }) }))).toBe(true);
  }
});

test('errors of the request or the code stay what they are', () => {
  expect(isUnavailable(new TypeError('x is undefined'))).toBe(false);
  expect(isUnavailable(Object.assign(new Error('dup'), { code: 11000 }))).toBe(false);
  expect(isUnavailable(Object.assign(new Error('no file'), { code: 'ENOENT' }))).toBe(false);
});
