/**
 * Reference data for the embedded system (Quảng Ninh province): the working
 * calendar, procedure catalogue, agencies, couriers and postal tariff. Seeds and
 * defaults only; admins maintain the live copies through the API.
 */
import type { Agency, CalendarYear, Courier, Procedure, Tariff } from '../domain/types';
import agenciesJson from './agencies.json';
import calendar2025 from './calendars/2025.json';
import calendar2026 from './calendars/2026.json';
import couriersJson from './couriers.json';
import proceduresJson from './procedures.json';
import tariffJson from './tariff.json';

export const calendars: CalendarYear[] = [calendar2025, calendar2026];
export const procedures: Procedure[] = proceduresJson;
// JSON widens `mode` to string; the shape is checked in test/unit/reference-data.test.ts.
export const agencies: Agency[] = agenciesJson as Agency[];
export const couriers: Courier[] = couriersJson;
export const tariff: Tariff = tariffJson;
