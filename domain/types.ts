/**
 * Plain data shared by the workflow (deterministic code), the activities and
 * the API. Nothing here does I/O.
 */

/** A calendar day in Asia/Ho_Chi_Minh, `YYYY-MM-DD`. */
export type LocalDate = string;
/** An instant, ISO 8601 with offset. */
export type Instant = string;

export interface Address {
  line: string;
  ward: string;
  district: string;
  province: string;
}

/** One year of the working calendar, as the government announces it. */
export interface CalendarYear {
  year: number;
  /** Days off that would otherwise be working days (holidays, compensatory days). */
  holidays: LocalDate[];
  /** Weekend days that are worked (swapped working Saturdays). */
  workingDays: LocalDate[];
  /** Free text, e.g. which dates are provisional. */
  note?: string;
}

export interface Procedure {
  code: string;
  name: string;
  processingDays: number;
  fees: { name: string; amountVnd: number }[];
}

export type HandoffChannel = { mode: 'webhook'; url: string } | { mode: 'manual' };

export interface Agency {
  id: string;
  name: string;
  province: string;
  district: string;
  handoff: HandoffChannel;
}

export interface Courier {
  id: string;
  name: string;
  province: string;
  district: string;
  /** Empty: the whole district. */
  wards: string[];
}

export type RouteClass = 'same_district' | 'same_province' | 'class_one_cities' | 'inter_province';

export interface RouteCharges {
  sameDistrict: number;
  sameProvince: number;
  interProvince: number;
}

/** Postal charges in VND by service and route class. */
export interface Tariff {
  pickup: RouteCharges;
  delivery: RouteCharges;
  redelivery: RouteCharges;
}

/** The reference data a dossier registers with: its procedure, agency, the tariff and the calendar's years. */
export interface DossierContext {
  procedure: Procedure;
  agency: Agency;
  tariff: Tariff;
  calendar: CalendarYear[];
}

/** The calendar years a dossier registers with: its submission's year and the next. */
export function dossierContextYears(submittedAt: string): number[] {
  const year = new Date(Date.parse(submittedAt)).getUTCFullYear();
  return [year, year + 1];
}

export type Role = 'portal' | 'agency' | 'courier' | 'clerk' | 'manager' | 'admin';

export interface Applicant {
  fullName: string;
  idNumber: string;
  phone: string;
  email?: string;
}

export type DeliveryChoice = { method: 'home'; address: Address } | { method: 'counter' };

export type PaymentChoice = { method: 'prepaid'; reference: string } | { method: 'cash' };

/** A dossier as the portal submits it (validated at the API edge). */
export interface Submission {
  code: string;
  procedureCode: string;
  agencyId: string;
  applicant: Applicant;
  services: { collect: boolean; deliver: boolean };
  pickupAddress?: Address;
  delivery?: DeliveryChoice;
  payment: PaymentChoice;
  submittedAt: Instant;
}
