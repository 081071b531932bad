/**
 * A submission's answer tells the truth with the worker down: the workflow
 * is started, so the answer is 202 Accepted with the dossier's Location (not
 * a 503, which must mean nothing happened); the same request again is 202
 * while it is pending and, once a worker is back, the dossier (200), with the
 * prepaid payment captured exactly once.
 */
import { submission } from '../support/fixtures';
import { pollUntil } from '../support/poll';
import { System } from '../support/system';

describe('a submission with the worker down', () => {
  let sys: System;
  beforeAll(async () => {
    sys = await System.start('submission-truth', { registrationTimeoutMs: 1500 });
  });
  afterAll(async () => {
    await sys.stop();
  });

  it('answers 202 with where to look, then the dossier once a worker registers it, capturing once', async () => {
    const portal = sys.token('portal');
    const reference = `PAY-${Date.now()}`;
    const body = submission({ payment: { method: 'prepaid', reference } });
    await sys.stopWorker();

    const accepted = await sys.request('POST', '/v1/dossiers', { token: portal, body });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe(`/v1/dossiers/${body.code}`);
    expect(accepted.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(accepted.body).toMatchObject({ code: body.code, status: 'registration_pending' });
    // Started, not registered: the workflow exists; nothing is captured yet.
    expect((await sys.dossiers.handle(body.code).describe()).status.name).toBe('RUNNING');
    expect(sys.gateway.captures).toHaveLength(0);

    const stillPending = await sys.request('POST', '/v1/dossiers', { token: portal, body });
    expect(stillPending.status).toBe(202);

    await sys.restartWorker();
    const again = await pollUntil(
      () => sys.request('POST', '/v1/dossiers', { token: portal, body }),
      (a) => a.status !== 202,
      50,
    );
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ code: body.code });
    const captured = await pollUntil(
      async () => sys.gateway.captures.filter((c) => c.reference === reference),
      (c) => c.length > 0,
    );
    expect(captured).toHaveLength(1);
  }, 90_000);
});
