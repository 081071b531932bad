import { at } from './time';
import { WorkflowHarness } from './workflow-harness';

/** The harness of a test file (or describe block), and the Monday its current test starts on. */
export type HarnessInTest = WorkflowHarness & {
  /** A Monday at least two days ahead, the test server's clock set to its 09:00 before each test. */
  readonly monday: string;
};

/**
 * The setup every workflow test repeats: a WorkflowHarness (time-skipping
 * server, a worker on the bundle the global setup built, a fresh database)
 * for the enclosing file or describe block, closed after it, and before each
 * test the clock moved to 09:00 of the next Monday, so dues fall on known days.
 *
 * Call it at the top of a file or describe block; what it returns may be used
 * only inside hooks and tests (it is a stand-in until `beforeAll` has run).
 */
export function useHarness(opts: Parameters<typeof WorkflowHarness.create>[0] = {}): HarnessInTest {
  let harness: WorkflowHarness | undefined;
  let monday: string | undefined;
  beforeAll(async () => {
    harness = await WorkflowHarness.create(opts);
  });
  afterAll(async () => {
    await harness?.close();
  });
  beforeEach(async () => {
    monday = await harness!.nextMonday();
    await harness!.advanceTo(at(monday, 0, '09:00'));
  });
  return new Proxy({} as HarnessInTest, {
    get(_, key) {
      if (!harness) throw new Error('the workflow harness is used outside a test or hook');
      if (key === 'monday') return monday;
      const value: unknown = Reflect.get(harness, key, harness);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(harness) : value;
    },
  });
}
