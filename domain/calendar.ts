/**
 * Working calendar and deadline arithmetic (DESIGN §2 "Counting days", §3).
 *
 * Pure and deterministic: it runs inside Temporal workflows, so no clock, no
 * randomness and no `Intl`. Vietnam (Asia/Ho_Chi_Minh) has had a fixed UTC+07:00
 * offset with no DST since 1975, so local time is plain offset arithmetic.
 * Dates are handled as day numbers (days since 1970-01-01) with integer civil
 * calendar conversions, which avoids `Date.UTC`'s two-digit-year quirk.
 */
import type { CalendarYear, Instant, LocalDate } from './types';

export const LOCAL_OFFSET = '+07:00';
/** Paper handed in at or after 15:00 counts as the next working day. */
export const CUTOFF_MINUTES = 15 * 60;
/** Re-dispatches and daily reminders go out at 08:00 local. */
export const MORNING_MINUTES = 8 * 60;
/** A calendar without a working day in this many days is broken data, not a long holiday. */
export const MAX_SEARCH_DAYS = 3660;

const OFFSET_MS = 7 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const MIN_YEAR = 1;
const MAX_YEAR = 9999;

// ---------------------------------------------------------------------------
// Civil-calendar conversions (H. Hinnant's days_from_civil / civil_from_days).

function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): [number, number, number] {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeapYear(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

const LOCAL_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Day number of a `YYYY-MM-DD` date; throws RangeError on anything else (e.g. 2026-02-30). */
export function dayNumber(day: LocalDate): number {
  const m = typeof day === 'string' ? LOCAL_DATE_RE.exec(day) : null;
  if (!m) throw new RangeError(`invalid local date: ${String(day)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < MIN_YEAR || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) {
    throw new RangeError(`invalid local date: ${day}`);
  }
  return daysFromCivil(y, mo, d);
}

/** `YYYY-MM-DD` of a day number. */
export function fromDayNumber(n: number): LocalDate {
  if (!Number.isSafeInteger(n)) throw new RangeError(`invalid day number: ${n}`);
  const [y, m, d] = civilFromDays(n);
  if (y < MIN_YEAR || y > MAX_YEAR) throw new RangeError(`date out of range (year ${y})`);
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

export function isLocalDate(s: unknown): s is LocalDate {
  if (typeof s !== 'string') return false;
  try {
    dayNumber(s);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Instants.

/** Local (+07:00) ISO 8601; milliseconds only when there are some. */
export function formatInstant(ms: number): Instant {
  if (!Number.isSafeInteger(ms)) throw new RangeError(`invalid instant: ${ms}`);
  const local = ms + OFFSET_MS;
  const day = Math.floor(local / DAY_MS);
  const t = local - day * DAY_MS;
  const millis = t % 1000;
  const secs = Math.floor(t / 1000);
  const time = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}`;
  return `${fromDayNumber(day)}T${time}${millis !== 0 ? `.${pad(millis, 3)}` : ''}${LOCAL_OFFSET}`;
}

// Date, 'T', time with optional seconds and fraction, and a mandatory offset:
// a string without offset would be read in the host's zone, which is not deterministic.
const INSTANT_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

/** Milliseconds since the epoch; accepts ISO 8601 / RFC 3339 with an offset or Z. */
export function parseInstant(s: Instant): number {
  const m = typeof s === 'string' ? INSTANT_RE.exec(s) : null;
  if (!m) throw new RangeError(`invalid instant (ISO 8601 with offset expected): ${String(s)}`);
  const day = dayNumber(`${m[1]}-${m[2]}-${m[3]}`);
  const h = Number(m[4]);
  const min = Number(m[5]);
  const sec = m[6] === undefined ? 0 : Number(m[6]);
  const frac = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const endOfDay = h === 24 && min === 0 && sec === 0 && (m[7] === undefined || /^0+$/.test(m[7]));
  if ((h > 23 && !endOfDay) || min > 59 || sec > 59) throw new RangeError(`invalid instant: ${s}`);
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) throw new RangeError(`invalid offset in instant: ${s}`);
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return day * DAY_MS + ((h * 60 + min - offsetMin) * 60 + sec) * 1000 + frac;
}

function toMs(at: Instant | number): number {
  if (typeof at === 'number') {
    if (!Number.isFinite(at)) throw new RangeError(`invalid instant: ${at}`);
    return at;
  }
  return parseInstant(at);
}

/** The calendar day of an instant in UTC+7. */
export function localDate(at: Instant | number): LocalDate {
  return fromDayNumber(Math.floor((toMs(at) + OFFSET_MS) / DAY_MS));
}

/** Minutes since local (UTC+7) midnight. */
export function localMinutes(at: Instant | number): number {
  const local = toMs(at) + OFFSET_MS;
  return Math.floor((local - Math.floor(local / DAY_MS) * DAY_MS) / 60_000);
}

export function addCalendarDays(day: LocalDate, n: number): LocalDate {
  if (!Number.isSafeInteger(n)) throw new RangeError(`invalid day count: ${n}`);
  return fromDayNumber(dayNumber(day) + n);
}

/** 0 = Sunday … 6 = Saturday. */
export function dayOfWeek(day: LocalDate): number {
  return weekday(dayNumber(day));
}

function weekday(n: number): number {
  return (((n + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

export function startOfLocalDay(day: LocalDate): Instant {
  dayNumber(day);
  return `${day}T00:00:00${LOCAL_OFFSET}`;
}

/** 24:00 of `day`, written as the next day's 00:00 (Civil Code Art. 148: a day ends at 24:00). */
export function endOfLocalDay(day: LocalDate): Instant {
  return `${addCalendarDays(day, 1)}T00:00:00${LOCAL_OFFSET}`;
}

/** The last day of a due: a due at 00:00 local belongs to the day that ends there. */
export function dueDay(dueAt: Instant): LocalDate {
  return localDate(parseInstant(dueAt) - 1);
}

// ---------------------------------------------------------------------------
// Calendar data validation.

export interface CalendarProblem {
  path: string;
  message: string;
  /** `error`: unusable data; `warning`: harmless but not how the data is meant to be written. */
  severity: 'error' | 'warning';
}

/**
 * Checks a year as an admin or the reference data supplies it. Errors: wrong
 * shape, invalid date, date outside the year, a date both off and worked.
 * Warnings: a weekend in `holidays` (already off), a weekday in `workingDays`
 * (already worked), duplicates.
 */
export function calendarYearProblems(input: unknown): CalendarProblem[] {
  const problems: CalendarProblem[] = [];
  const err = (path: string, message: string) => problems.push({ path, message, severity: 'error' });
  const warn = (path: string, message: string) => problems.push({ path, message, severity: 'warning' });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    err('', 'expected an object {year, holidays, workingDays}');
    return problems;
  }
  const y = input as Record<string, unknown>;
  const year = y.year;
  const yearOk = typeof year === 'number' && Number.isInteger(year) && year >= MIN_YEAR && year <= MAX_YEAR;
  if (!yearOk) err('year', `expected an integer year between ${MIN_YEAR} and ${MAX_YEAR}`);
  if (y.note !== undefined && typeof y.note !== 'string') err('note', 'expected a string');
  const seen = new Map<string, string>();
  for (const key of ['holidays', 'workingDays'] as const) {
    const list = y[key];
    if (!Array.isArray(list)) {
      err(key, 'expected an array of YYYY-MM-DD dates');
      continue;
    }
    list.forEach((day: unknown, i) => {
      const path = `${key}.${i}`; // the same spelling as zod's paths in every other 400
      if (!isLocalDate(day)) return void err(path, `invalid date: ${String(day)}`);
      if (yearOk && Number(day.slice(0, 4)) !== year) return void err(path, `${day} is not in ${String(year)}`);
      const prior = seen.get(day);
      if (prior === key) warn(path, `${day} listed twice`);
      else if (prior !== undefined) err(path, `${day} is both a holiday and a working day`);
      seen.set(day, key);
      const dow = dayOfWeek(day);
      const weekend = dow === 0 || dow === 6;
      if (key === 'holidays' && weekend) warn(path, `${day} is a weekend day, already off`);
      if (key === 'workingDays' && !weekend) warn(path, `${day} is a weekday, already worked`);
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------
// The working calendar.

/**
 * Labour Code 2019 Art. 112 solar-calendar holidays (month, day), used only for
 * years the data does not cover: 1 Jan, 30 Apr, 1 May, 2 Sep. The lunar ones
 * (Tết, Hùng Kings), the extra National Day day, compensatory days off and swapped
 * Saturdays are fixed by the government each year and cannot be guessed, so an
 * uncovered year is only an approximation until its data is entered.
 */
const FIXED_SOLAR_HOLIDAYS: readonly (readonly [number, number])[] = [
  [1, 1],
  [4, 30],
  [5, 1],
  [9, 2],
];

export class WorkingCalendar {
  readonly years: CalendarYear[];
  private readonly known = new Set<number>();
  private readonly off = new Set<number>();
  private readonly worked = new Set<number>();

  constructor(years: CalendarYear[]) {
    const copies: CalendarYear[] = [];
    for (const y of years) {
      const errors = calendarYearProblems(y).filter((p) => p.severity === 'error');
      if (errors.length > 0) {
        const where = typeof y?.year === 'number' ? ` ${y.year}` : '';
        throw new RangeError(`invalid calendar year${where}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
      }
      if (this.known.has(y.year)) throw new RangeError(`calendar year ${y.year} given twice`);
      this.known.add(y.year);
      for (const d of y.holidays) this.off.add(dayNumber(d));
      for (const d of y.workingDays) this.worked.add(dayNumber(d));
      // Copied so later edits of the caller's objects cannot change this calendar.
      copies.push({
        year: y.year,
        holidays: [...y.holidays].sort(),
        workingDays: [...y.workingDays].sort(),
        ...(y.note !== undefined ? { note: y.note } : {}),
      });
    }
    this.years = copies.sort((a, b) => a.year - b.year);
  }

  hasYear(year: number): boolean {
    return this.known.has(year);
  }

  isWorkingDay(day: LocalDate): boolean {
    return this.isWorking(dayNumber(day));
  }

  /** The first working day strictly after `day`. */
  nextWorkingDay(day: LocalDate): LocalDate {
    return fromDayNumber(this.step(dayNumber(day), 1));
  }

  /** The last working day strictly before `day`. */
  previousWorkingDay(day: LocalDate): LocalDate {
    return fromDayNumber(this.step(dayNumber(day), -1));
  }

  /** n = 0: `day` itself; otherwise the n-th working day strictly after `day`. */
  addWorkingDays(day: LocalDate, n: number): LocalDate {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`working days must be a non-negative integer: ${n}`);
    let cur = dayNumber(day);
    for (let i = 0; i < n; i++) cur = this.step(cur, 1);
    return fromDayNumber(cur);
  }

  /** Working days d with from < d <= to; 0 when to <= from. */
  workingDaysBetween(from: LocalDate, to: LocalDate): number {
    const a = dayNumber(from);
    const b = dayNumber(to);
    let count = 0;
    for (let d = a + 1; d <= b; d++) if (this.isWorking(d)) count++;
    return count;
  }

  private isWorking(n: number): boolean {
    const [y, m, d] = civilFromDays(n);
    if (this.known.has(y)) {
      if (this.worked.has(n)) return true;
      if (this.off.has(n)) return false;
    } else if (FIXED_SOLAR_HOLIDAYS.some(([hm, hd]) => hm === m && hd === d)) {
      return false;
    }
    const dow = weekday(n);
    return dow !== 0 && dow !== 6;
  }

  private step(from: number, dir: 1 | -1): number {
    for (let i = 1; i <= MAX_SEARCH_DAYS; i++) {
      const n = from + dir * i;
      if (this.isWorking(n)) return n;
    }
    throw new RangeError(
      `no working day within ${MAX_SEARCH_DAYS} days ${dir > 0 ? 'after' : 'before'} ${fromDayNumber(from)}: check the calendar data`,
    );
  }
}

// ---------------------------------------------------------------------------
// Deadline arithmetic (DESIGN §3).

/**
 * J, the day an event counts on: its local day, or the next working day when
 * that day is not a working day or the event is at/after 15:00 local.
 */
export function effectiveDay(cal: WorkingCalendar, at: Instant | number): LocalDate {
  const day = localDate(at);
  if (!cal.isWorkingDay(day) || localMinutes(at) >= CUTOFF_MINUTES) return cal.nextWorkingDay(day);
  return day;
}

/**
 * 24:00 local of the n-th working day after J (counting starts the day after the
 * event, Civil Code Art. 147); n = 0 is the end of J (electronic handoff).
 */
export function computeDueAt(cal: WorkingCalendar, startedAt: Instant, workingDays: number): Instant {
  return endOfLocalDay(cal.addWorkingDays(effectiveDay(cal, startedAt), workingDays));
}

/**
 * One working day before a due: the end of the last working day before the
 * due's last day. May lie at or before the start for 0- or 1-day dues.
 */
export function atRiskAt(cal: WorkingCalendar, dueAt: Instant): Instant {
  return endOfLocalDay(cal.previousWorkingDay(dueDay(dueAt)));
}

/** 08:00 local of `day`, when re-dispatches, reminders and invitations go out. */
export function morningOf(day: LocalDate): Instant {
  return `${day}T${pad(MORNING_MINUTES / 60)}:${pad(MORNING_MINUTES % 60)}:00${LOCAL_OFFSET}`;
}

/** 08:00 local on the first working day strictly after the local day of `at`. */
export function nextWorkingMorning(cal: WorkingCalendar, at: Instant | number): Instant {
  return morningOf(cal.nextWorkingDay(localDate(at)));
}

/**
 * The due for a date-based appointment (e.g. an apology's new date): 24:00 of
 * that day, or of the next working day when it is not one (Civil Code Art. 148).
 */
export function dueAtForDate(cal: WorkingCalendar, day: LocalDate): Instant {
  return endOfLocalDay(cal.isWorkingDay(day) ? day : cal.nextWorkingDay(day));
}
