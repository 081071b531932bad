import type { Submission } from '../../domain/types';

let counter = 0;

/** A unique dossier code per call, so tests never collide on `dossier-<code>`. */
export function uniqueCode(prefix = 'T'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export const HA_LONG_HOME = { line: 'Số 5, khu 3', ward: 'Hồng Gai', district: 'Hạ Long', province: 'Quảng Ninh' };

/** Land-use change registration at the Hạ Long branch, picked up and delivered at home, prepaid. */
export function submission(overrides: Partial<Submission> = {}): Submission {
  return {
    code: uniqueCode(),
    procedureCode: '1.001234',
    agencyId: 'HL-TNMT',
    applicant: { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', phone: '0912345678' },
    services: { collect: true, deliver: true },
    pickupAddress: HA_LONG_HOME,
    delivery: { method: 'home', address: HA_LONG_HOME },
    payment: { method: 'prepaid', reference: 'PAY-123' },
    submittedAt: '2026-01-05T09:15:00+07:00',
    ...overrides,
  };
}
