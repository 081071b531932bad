import type { Submission } from '../domain/types';

/** A home in Hạ Long, Quảng Ninh: in the seeded couriers' and tariff's area. */
export const HA_LONG_HOME = { line: 'Số 5, khu 3', ward: 'Hồng Gai', district: 'Hạ Long', province: 'Quảng Ninh' };

/**
 * Land-use change registration at the Hạ Long branch, picked up and delivered
 * at home, prepaid: a request body valid on the seeded reference data, shared
 * by the tests, the benchmark and the chaos run (the API stamps `submittedAt`
 * when it is left out).
 */
export function homeSubmission(code: string): Omit<Submission, 'submittedAt'> {
  return {
    code,
    procedureCode: '1.001234',
    agencyId: 'HL-TNMT',
    applicant: { fullName: 'Nguyễn Văn Hoàn', idNumber: '022080001234', phone: '0912345678' },
    services: { collect: true, deliver: true },
    pickupAddress: HA_LONG_HOME,
    delivery: { method: 'home', address: HA_LONG_HOME },
    payment: { method: 'prepaid', reference: 'PAY-123' },
  };
}
