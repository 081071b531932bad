/**
 * A view query that a worker never answers (it can drop one waiting behind a workflow task) ends at its
 * attempt's deadline and is asked again, instead of holding its caller for ever (clients/dossiers.ts).
 */
import { ServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DossierClient } from '../../clients/dossiers';

const DEADLINE_EXCEEDED = 4;

/** The calls DossierClient.view makes of a Temporal client, answered by `answers` in turn. */
function clientAnswering(answers: Array<'dropped' | 'missing' | 'unavailable' | object>) {
  const deadlines: number[] = [];
  const client = {
    connection: {},
    withDeadline<R>(deadline: number, fn: () => Promise<R>): Promise<R> {
      deadlines.push(deadline - Date.now());
      return fn();
    },
    workflow: {
      getHandle: () => ({
        query: async () => {
          const next = answers.shift();
          if (next === 'dropped') throw new ServiceError('Failed to query Workflow', { cause: Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: DEADLINE_EXCEEDED }) });
          if (next === 'unavailable') throw new ServiceError('Failed to query Workflow', { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) });
          if (next === 'missing') throw new WorkflowNotFoundError('not found', 'dossier-X', undefined);
          return next;
        },
      }),
    },
  };
  return { client: client as unknown as Client, deadlines, left: () => answers.length };
}

test('a dropped query is asked again; each attempt has its own deadline of a few seconds', async () => {
  const { client, deadlines } = clientAnswering(['dropped', 'dropped', { code: 'X', status: 'processing' }]);
  await expect(new DossierClient(client, 'q').view('X')).resolves.toEqual({ code: 'X', status: 'processing' });
  expect(deadlines).toHaveLength(3);
  for (const ms of deadlines) {
    expect(ms).toBeGreaterThan(1000);
    expect(ms).toBeLessThanOrEqual(3000);
  }
});

test('the attempts are bounded: three dropped queries fail the read, as the server being away does at once', async () => {
  const dropped = clientAnswering(['dropped', 'dropped', 'dropped', { code: 'X' }]);
  await expect(new DossierClient(dropped.client, 'q').view('X')).rejects.toBeInstanceOf(ServiceError);
  expect(dropped.left()).toBe(1);
  const away = clientAnswering(['unavailable', { code: 'X' }]);
  await expect(new DossierClient(away.client, 'q').view('X')).rejects.toBeInstanceOf(ServiceError);
  expect(away.left()).toBe(1);
});

test('no such workflow is null, not an error', async () => {
  await expect(new DossierClient(clientAnswering(['missing']).client, 'q').view('X')).resolves.toBeNull();
});
