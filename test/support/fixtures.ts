import type { Submission } from '../../domain/types';
import { HA_LONG_HOME, homeSubmission } from '../../reference-data/example-submissions';

let counter = 0;

/** A unique dossier code per call, so tests never collide on `dossier-<code>`. */
export function uniqueCode(prefix = 'T'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export { HA_LONG_HOME };

/** Land-use change registration at the Hạ Long branch, picked up and delivered at home, prepaid. */
export function submission(overrides: Partial<Submission> = {}): Submission {
  return {
    ...homeSubmission(uniqueCode()),
    submittedAt: '2026-01-05T09:15:00+07:00',
    ...overrides,
  };
}
