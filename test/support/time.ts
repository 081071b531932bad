import { addCalendarDays } from '../../domain/calendar';

/** `HH:MM` local on the day `offset` calendar days after `day`, as an ISO instant with +07:00. */
export function at(day: string, offset: number, hhmm: string): string {
  return `${addCalendarDays(day, offset)}T${hhmm}:00+07:00`;
}

/** Local midnight that ends the day `offset` days after `day` (how dues are written). */
export function endOf(day: string, offset: number): string {
  return `${addCalendarDays(day, offset + 1)}T00:00:00+07:00`;
}
