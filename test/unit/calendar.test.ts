import fc from 'fast-check';
import {
  CUTOFF_MINUTES,
  LOCAL_OFFSET,
  WorkingCalendar,
  addCalendarDays,
  atRiskAt,
  calendarYearProblems,
  computeDueAt,
  dayOfWeek,
  dueAtForDate,
  dueDay,
  effectiveDay,
  endOfLocalDay,
  formatInstant,
  localDate,
  localMinutes,
  nextWorkingMorning,
  parseInstant,
  startOfLocalDay,
} from '../../domain/calendar';
import type { CalendarYear } from '../../domain/types';
import { calendars } from '../../reference-data';

const cal = new WorkingCalendar(calendars);
const due = (at: string, n: number) => computeDueAt(cal, at, n);

describe('instants', () => {
  it('formats in +07:00, with milliseconds only when present', () => {
    expect(LOCAL_OFFSET).toBe('+07:00');
    expect(formatInstant(parseInstant('2026-01-08T17:00:00Z'))).toBe('2026-01-09T00:00:00+07:00');
    expect(formatInstant(parseInstant('2026-01-05T03:00:00.250Z'))).toBe('2026-01-05T10:00:00.250+07:00');
    expect(formatInstant(0)).toBe('1970-01-01T07:00:00+07:00');
    expect(formatInstant(-1)).toBe('1970-01-01T06:59:59.999+07:00');
  });

  it('parses ISO 8601 with any offset or Z', () => {
    const ms = Date.UTC(2026, 0, 5, 3, 0, 0);
    for (const s of [
      '2026-01-05T10:00:00+07:00',
      '2026-01-05T10:00+07:00',
      '2026-01-05T03:00:00Z',
      '2026-01-05T03:00:00.000z',
      '2026-01-04T22:00:00-05:00',
      '2026-01-05T10:00:00+0700',
      '2026-01-05T10:00:00.000000+07:00',
      '2026-01-04T24:00:00-03:00',
    ]) {
      expect(parseInstant(s)).toBe(ms);
    }
    expect(parseInstant('2026-01-05T10:00:00.1234+07:00')).toBe(ms + 123);
  });

  it('rejects strings without an offset or with impossible fields', () => {
    for (const s of [
      '2026-01-05T10:00:00',
      '2026-01-05',
      'Mon Jan 05 2026',
      '2026-02-30T10:00:00Z',
      '2026-01-05T25:00:00Z',
      '2026-01-05T24:00:01Z',
      '2026-01-05T10:60:00Z',
      '2026-01-05T10:00:00+25:00',
      '',
    ]) {
      expect(() => parseInstant(s)).toThrow(RangeError);
    }
  });

  it('gives the local day and minutes in UTC+7', () => {
    expect(localDate('2026-01-04T17:00:00Z')).toBe('2026-01-05');
    expect(localDate('2026-01-04T16:59:59.999Z')).toBe('2026-01-04');
    expect(localMinutes('2026-01-05T08:00:00Z')).toBe(CUTOFF_MINUTES);
    expect(localMinutes(parseInstant('2026-01-05T00:01:00+07:00'))).toBe(1);
  });

  it('does calendar-day arithmetic across months, leap days and years', () => {
    expect(addCalendarDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addCalendarDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addCalendarDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(dayOfWeek('2026-01-05')).toBe(1);
    expect(dayOfWeek('2026-01-04')).toBe(0);
    expect(startOfLocalDay('2026-01-05')).toBe('2026-01-05T00:00:00+07:00');
    expect(endOfLocalDay('2025-12-31')).toBe('2026-01-01T00:00:00+07:00');
    expect(dueDay('2026-01-09T00:00:00+07:00')).toBe('2026-01-08');
    expect(() => addCalendarDays('2026-13-01', 1)).toThrow(RangeError);
  });
});

describe('WorkingCalendar', () => {
  it('knows weekends, holidays and swapped Saturdays', () => {
    expect(cal.hasYear(2026)).toBe(true);
    expect(cal.hasYear(2030)).toBe(false);
    expect(cal.isWorkingDay('2026-01-05')).toBe(true);
    expect(cal.isWorkingDay('2026-01-03')).toBe(false);
    expect(cal.isWorkingDay('2026-01-02')).toBe(false);
    expect(cal.isWorkingDay('2026-01-10')).toBe(true);
    expect(cal.isWorkingDay('2026-01-17')).toBe(false);
  });

  it('moves strictly forward and backward', () => {
    expect(cal.nextWorkingDay('2025-12-31')).toBe('2026-01-05');
    expect(cal.previousWorkingDay('2026-01-05')).toBe('2025-12-31');
    expect(cal.nextWorkingDay('2026-02-13')).toBe('2026-02-23');
    expect(cal.previousWorkingDay('2026-01-12')).toBe('2026-01-10');
    expect(cal.addWorkingDays('2026-01-03', 0)).toBe('2026-01-03');
    expect(cal.addWorkingDays('2026-01-08', 2)).toBe('2026-01-10');
    expect(() => cal.addWorkingDays('2026-01-08', -1)).toThrow(RangeError);
    expect(() => cal.addWorkingDays('2026-01-08', 1.5)).toThrow(RangeError);
  });

  it('counts working days in (from, to]', () => {
    expect(cal.workingDaysBetween('2026-01-05', '2026-01-08')).toBe(3);
    expect(cal.workingDaysBetween('2026-01-08', '2026-01-12')).toBe(3); // Fri 9, Sat 10 (swapped), Mon 12
    expect(cal.workingDaysBetween('2026-01-08', '2026-01-08')).toBe(0);
    expect(cal.workingDaysBetween('2026-01-09', '2026-01-05')).toBe(0);
    expect(cal.workingDaysBetween('2026-02-13', '2026-02-23')).toBe(1);
  });

  it('falls back to weekends plus 1 Jan, 30 Apr, 1 May and 2 Sep for unknown years', () => {
    const c2030 = new WorkingCalendar([]);
    expect(c2030.isWorkingDay('2030-01-01')).toBe(false); // Tuesday
    expect(c2030.isWorkingDay('2030-04-30')).toBe(false);
    expect(c2030.isWorkingDay('2030-05-01')).toBe(false);
    expect(c2030.isWorkingDay('2030-09-02')).toBe(false);
    expect(c2030.isWorkingDay('2030-09-03')).toBe(true);
    expect(computeDueAt(cal, '2029-12-31T10:00:00+07:00', 1)).toBe('2030-01-03T00:00:00+07:00');
    // A known year's data is authoritative: the fixed days are not implied.
    const bare = new WorkingCalendar([{ year: 2026, holidays: [], workingDays: [] }]);
    expect(bare.isWorkingDay('2026-01-01')).toBe(true);
  });

  it('rejects bad data and duplicate years', () => {
    expect(() => new WorkingCalendar([{ year: 2026, holidays: ['2025-12-31'], workingDays: [] }])).toThrow(/not in 2026/);
    expect(() => new WorkingCalendar([{ year: 2026, holidays: ['2026-1-2'], workingDays: [] }])).toThrow(RangeError);
    expect(
      () => new WorkingCalendar([{ year: 2026, holidays: ['2026-01-10'], workingDays: ['2026-01-10'] }]),
    ).toThrow(/both/);
    expect(() => new WorkingCalendar([...calendars, calendars[0]])).toThrow(/twice/);
    const problems = calendarYearProblems({ year: 2026, holidays: ['2026-01-03'], workingDays: ['2026-01-05'] });
    expect(problems.map((p) => [p.path, p.severity])).toEqual([
      ['holidays.0', 'warning'],
      ['workingDays.0', 'warning'],
    ]);
    expect(calendarYearProblems(null)[0].severity).toBe('error');
  });

  it('is not affected by later edits of its input', () => {
    const input: CalendarYear = { year: 2026, holidays: ['2026-01-05'], workingDays: [] };
    const c = new WorkingCalendar([input]);
    input.holidays.push('2026-01-06');
    expect(c.isWorkingDay('2026-01-06')).toBe(true);
  });

  it('throws rather than hangs when no working day exists', () => {
    const years: CalendarYear[] = [];
    for (let y = 2026; y <= 2037; y++) {
      const holidays: string[] = [];
      for (let d = `${y}-01-01`; d.startsWith(String(y)); d = addCalendarDays(d, 1)) {
        if (dayOfWeek(d) !== 0 && dayOfWeek(d) !== 6) holidays.push(d);
      }
      years.push({ year: y, holidays, workingDays: [] });
    }
    const none = new WorkingCalendar(years);
    expect(() => none.nextWorkingDay('2026-01-01')).toThrow(/no working day/);
    expect(() => none.previousWorkingDay('2037-12-31')).toThrow(/no working day/);
    expect(() => computeDueAt(none, '2026-03-02T10:00:00+07:00', 1)).toThrow(/no working day/);
  });
});

describe('deadline arithmetic (DESIGN §3)', () => {
  it('matches the DESIGN examples', () => {
    expect(due('2026-01-05T10:00:00+07:00', 3)).toBe('2026-01-09T00:00:00+07:00');
    expect(due('2026-01-05T16:00:00+07:00', 3)).toBe('2026-01-10T00:00:00+07:00');
    expect(due('2026-01-05T10:00:00+07:00', 0)).toBe('2026-01-06T00:00:00+07:00');
    expect(due('2026-01-05T16:00:00+07:00', 0)).toBe('2026-01-07T00:00:00+07:00');
  });

  it('counts the swapped Saturday 10 Jan 2026 inside a span', () => {
    expect(due('2026-01-08T10:00:00+07:00', 2)).toBe('2026-01-11T00:00:00+07:00');
    expect(due('2026-01-08T10:00:00+07:00', 3)).toBe('2026-01-13T00:00:00+07:00');
  });

  it('applies the 15:00 cut-off at exactly 15:00, not at 14:59:59', () => {
    expect(effectiveDay(cal, '2026-01-05T14:59:59+07:00')).toBe('2026-01-05');
    expect(effectiveDay(cal, '2026-01-05T14:59:59.999+07:00')).toBe('2026-01-05');
    expect(effectiveDay(cal, '2026-01-05T15:00:00+07:00')).toBe('2026-01-06');
    expect(due('2026-01-05T14:59:59+07:00', 1)).toBe('2026-01-07T00:00:00+07:00');
    expect(due('2026-01-05T15:00:00+07:00', 1)).toBe('2026-01-08T00:00:00+07:00');
    // The same instant written in UTC.
    expect(due('2026-01-05T08:00:00Z', 1)).toBe('2026-01-08T00:00:00+07:00');
  });

  it('moves an event on a weekend or holiday to the next working day', () => {
    expect(effectiveDay(cal, '2026-01-11T09:00:00+07:00')).toBe('2026-01-12'); // Sunday
    expect(due('2026-01-11T09:00:00+07:00', 1)).toBe('2026-01-14T00:00:00+07:00');
    expect(effectiveDay(cal, '2026-01-01T09:00:00+07:00')).toBe('2026-01-05'); // New Year, then Fri off, weekend
    expect(effectiveDay(cal, '2026-01-10T16:00:00+07:00')).toBe('2026-01-12'); // swapped Saturday after cut-off
    expect(effectiveDay(cal, '2026-01-10T09:00:00+07:00')).toBe('2026-01-10');
  });

  it('skips the whole Tết 2026 span', () => {
    expect(due('2026-02-12T10:00:00+07:00', 2)).toBe('2026-02-24T00:00:00+07:00'); // Fri 13, Mon 23
    expect(due('2026-02-13T10:00:00+07:00', 1)).toBe('2026-02-24T00:00:00+07:00');
    expect(due('2026-02-18T10:00:00+07:00', 0)).toBe('2026-02-24T00:00:00+07:00'); // J = Mon 23
  });

  it('runs past a holiday that follows what would be the last day', () => {
    // Wed 29 Apr 2026 + 1: Thu 30 Apr and Fri 1 May are off, Sat-Sun weekend → Mon 4 May.
    expect(due('2026-04-29T10:00:00+07:00', 1)).toBe('2026-05-05T00:00:00+07:00');
    // Fri 24 Apr + 1: Mon 27 Apr (Hùng Kings make-up) is off → Tue 28.
    expect(due('2026-04-24T10:00:00+07:00', 1)).toBe('2026-04-29T00:00:00+07:00');
  });

  it('crosses the 2025→2026 year boundary', () => {
    // Wed 31 Dec 2025 + 2: Thu 1 and Fri 2 Jan off, weekend → Mon 5, Tue 6.
    expect(due('2025-12-31T10:00:00+07:00', 2)).toBe('2026-01-07T00:00:00+07:00');
    // 31 Dec 2025 after the cut-off: J = Mon 5 Jan 2026.
    expect(due('2025-12-31T15:30:00+07:00', 0)).toBe('2026-01-06T00:00:00+07:00');
    expect(due('2025-12-31T08:30:00Z', 0)).toBe('2026-01-06T00:00:00+07:00');
  });

  it('falls back for an unknown year (2030)', () => {
    // Mon 29 Apr 2030 + 2: Tue 30 Apr and Wed 1 May off → Thu 2, Fri 3.
    expect(due('2030-04-29T10:00:00+07:00', 2)).toBe('2030-05-04T00:00:00+07:00');
  });

  it('places the at-risk instant one working day before the due', () => {
    expect(atRiskAt(cal, '2026-01-09T00:00:00+07:00')).toBe('2026-01-08T00:00:00+07:00');
    expect(atRiskAt(cal, '2026-01-13T00:00:00+07:00')).toBe('2026-01-11T00:00:00+07:00'); // after Sat 10
    expect(atRiskAt(cal, '2026-02-24T00:00:00+07:00')).toBe('2026-02-14T00:00:00+07:00'); // before Tết
  });

  it('gives the next working morning at 08:00', () => {
    expect(nextWorkingMorning(cal, '2026-01-08T17:00:00+07:00')).toBe('2026-01-09T08:00:00+07:00');
    expect(nextWorkingMorning(cal, '2026-01-09T07:00:00+07:00')).toBe('2026-01-10T08:00:00+07:00');
    expect(nextWorkingMorning(cal, '2026-02-13T06:00:00+07:00')).toBe('2026-02-23T08:00:00+07:00');
    expect(nextWorkingMorning(cal, parseInstant('2025-12-31T20:00:00Z'))).toBe('2026-01-05T08:00:00+07:00');
  });

  it('turns a date appointment into a due, rolled past non-working days', () => {
    expect(dueAtForDate(cal, '2026-01-15')).toBe('2026-01-16T00:00:00+07:00');
    expect(dueAtForDate(cal, '2026-02-14')).toBe('2026-02-24T00:00:00+07:00');
  });
});

describe('properties', () => {
  const MIN_MS = Date.UTC(2024, 11, 1);
  const MAX_MS = Date.UTC(2027, 1, 1);
  const instant = fc.integer({ min: MIN_MS, max: MAX_MS }).map(formatInstant);
  const days = fc.integer({ min: 0, max: 30 });
  const holidayIn = fc.integer({ min: 0, max: 729 }).map((i) => addCalendarDays('2025-01-01', i));

  it('a due always ends a working day, at local midnight', () => {
    fc.assert(
      fc.property(instant, days, (at, n) => {
        const d = due(at, n);
        expect(d.endsWith('T00:00:00+07:00')).toBe(true);
        expect(localMinutes(d)).toBe(0);
        expect(cal.isWorkingDay(dueDay(d))).toBe(true);
        expect(cal.workingDaysBetween(effectiveDay(cal, at), dueDay(d))).toBe(n);
      }),
      { numRuns: 300 },
    );
  });

  it('adding a holiday never moves a due earlier', () => {
    fc.assert(
      fc.property(instant, days, holidayIn, (at, n, extra) => {
        const year = Number(extra.slice(0, 4));
        const more = new WorkingCalendar(
          calendars.map((y) =>
            y.year === year
              ? { ...y, holidays: [...y.holidays, extra], workingDays: y.workingDays.filter((w) => w !== extra) }
              : y,
          ),
        );
        expect(parseInstant(computeDueAt(more, at, n))).toBeGreaterThanOrEqual(parseInstant(due(at, n)));
      }),
      { numRuns: 200 },
    );
  });

  it('n+1 working days never end before n', () => {
    fc.assert(
      fc.property(instant, days, (at, n) => {
        expect(parseInstant(due(at, n + 1))).toBeGreaterThan(parseInstant(due(at, n)));
      }),
      { numRuns: 300 },
    );
  });

  it('effectiveDay is a working day, never before the local day', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS, max: MAX_MS }), (ms) => {
        const j = effectiveDay(cal, ms);
        expect(cal.isWorkingDay(j)).toBe(true);
        expect(j >= localDate(ms)).toBe(true);
        if (cal.isWorkingDay(localDate(ms)) && localMinutes(ms) < CUTOFF_MINUTES) expect(j).toBe(localDate(ms));
      }),
      { numRuns: 300 },
    );
  });

  it('atRiskAt is before the due and ends a working day', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 30 }), (at, n) => {
        const d = due(at, n);
        const r = atRiskAt(cal, d);
        expect(parseInstant(r)).toBeLessThan(parseInstant(d));
        expect(cal.isWorkingDay(dueDay(r))).toBe(true);
        expect(cal.workingDaysBetween(dueDay(r), dueDay(d))).toBe(1);
      }),
      { numRuns: 200 },
    );
  });

  it('formatInstant and parseInstant round-trip, whatever the offset written', () => {
    const ms = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) });
    fc.assert(
      fc.property(ms, fc.integer({ min: -14 * 60, max: 14 * 60 }), (t, offsetMin) => {
        const s = formatInstant(t);
        expect(parseInstant(s)).toBe(t);
        expect(formatInstant(parseInstant(s))).toBe(s);
        // The same instant rendered at another offset.
        const shifted = new Date(t + offsetMin * 60_000).toISOString().slice(0, 23);
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        expect(parseInstant(`${shifted}${off}`)).toBe(t);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with Date on the local day', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }), (t) => {
        expect(localDate(t)).toBe(new Date(t + 7 * 3600_000).toISOString().slice(0, 10));
        expect(dayOfWeek(localDate(t))).toBe(new Date(t + 7 * 3600_000).getUTCDay());
      }),
      { numRuns: 300 },
    );
  });
});
