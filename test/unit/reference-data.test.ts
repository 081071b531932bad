import { WorkingCalendar, calendarYearProblems, dayOfWeek, isLocalDate } from '../../domain/calendar';
import { sameDistrict } from '../../domain/routes';
import { agencies, calendars, couriers, procedures, tariff } from '../../reference-data';

const cal = new WorkingCalendar(calendars);
const unique = (xs: string[]) => new Set(xs).size === xs.length;

describe('calendars', () => {
  it('cover 2025 and 2026 and parse without problems', () => {
    expect(calendars.map((c) => c.year)).toEqual([2025, 2026]);
    for (const c of calendars) expect(calendarYearProblems(c)).toEqual([]);
  });

  it('list no weekend as a holiday and only weekends as working days', () => {
    for (const c of calendars) {
      const weekend = (d: string) => dayOfWeek(d) === 0 || dayOfWeek(d) === 6;
      expect(c.holidays.filter(weekend)).toEqual([]);
      expect(c.workingDays.filter((d) => !weekend(d))).toEqual([]);
      expect(unique(c.holidays)).toBe(true);
      for (const d of [...c.holidays, ...c.workingDays]) expect(d.startsWith(`${c.year}-`)).toBe(true);
    }
  });

  it('hold the 2026 facts from DESIGN §2', () => {
    for (const d of ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04']) expect(cal.isWorkingDay(d)).toBe(false);
    expect(cal.isWorkingDay('2026-01-10')).toBe(true);
    for (let day = 14; day <= 22; day++) expect(cal.isWorkingDay(`2026-02-${day}`)).toBe(false);
    expect(cal.isWorkingDay('2026-02-13')).toBe(true);
    expect(cal.isWorkingDay('2026-02-23')).toBe(true);
    expect(cal.isWorkingDay('2026-04-27')).toBe(false);
    for (const d of ['2026-04-30', '2026-05-01', '2026-05-02', '2026-05-03']) expect(cal.isWorkingDay(d)).toBe(false);
    expect(cal.isWorkingDay('2026-05-04')).toBe(true);
    expect(cal.isWorkingDay('2026-09-02')).toBe(false);
    expect(calendars.find((c) => c.year === 2026)?.note).toMatch(/provisional/i);
  });

  it('hold the 2025 facts', () => {
    for (let day = 25; day <= 31; day++) expect(cal.isWorkingDay(`2025-01-${day}`)).toBe(false);
    expect(cal.isWorkingDay('2025-02-03')).toBe(true);
    expect(cal.isWorkingDay('2025-04-07')).toBe(false);
    expect(cal.isWorkingDay('2025-04-26')).toBe(true);
    expect(cal.isWorkingDay('2025-05-02')).toBe(false);
    expect(cal.isWorkingDay('2025-05-05')).toBe(true);
    expect(cal.isWorkingDay('2025-09-01')).toBe(false);
    expect(cal.isWorkingDay('2025-09-02')).toBe(false);
    expect(cal.isWorkingDay('2025-09-03')).toBe(true);
  });
});

describe('procedures', () => {
  it('are valid and uniquely coded', () => {
    expect(procedures).toHaveLength(5);
    expect(unique(procedures.map((p) => p.code))).toBe(true);
    for (const p of procedures) {
      expect(p.code).toMatch(/^\d\.\d{6}$/);
      expect(p.name.trim()).not.toBe('');
      expect(Number.isInteger(p.processingDays) && p.processingDays >= 1).toBe(true);
      for (const f of p.fees) {
        expect(f.name.trim()).not.toBe('');
        expect(Number.isSafeInteger(f.amountVnd) && f.amountVnd >= 0).toBe(true);
      }
    }
    const byCode = Object.fromEntries(procedures.map((p) => [p.code, p]));
    expect(byCode['2.000488'].processingDays).toBe(10);
    expect(byCode['2.000488'].fees[0].amountVnd).toBe(200000);
    expect(byCode['2.000720'].processingDays).toBe(3);
    expect(byCode['1.009994'].processingDays).toBe(15);
  });
});

describe('agencies and couriers', () => {
  it('agencies are valid, unique and in Quảng Ninh', () => {
    expect(agencies).toHaveLength(4);
    expect(unique(agencies.map((a) => a.id))).toBe(true);
    for (const a of agencies) {
      expect(a.id).toMatch(/^[A-Z0-9-]+$/);
      expect(a.name.trim()).not.toBe('');
      expect(a.province).toBe('Quảng Ninh');
      expect(a.district.trim()).not.toBe('');
      expect(['manual', 'webhook']).toContain(a.handoff.mode);
      const handoff = a.handoff;
      if (handoff.mode === 'webhook') expect(() => new URL(handoff.url)).not.toThrow();
    }
    expect(agencies.map((a) => a.id)).toEqual(expect.arrayContaining(['QN-STP', 'HL-TNMT', 'HL-UBND', 'CP-UBND']));
  });

  it('couriers are valid, unique and cover every agency district', () => {
    expect(couriers).toHaveLength(5);
    expect(unique(couriers.map((c) => c.id))).toBe(true);
    for (const c of couriers) {
      expect(c.name.trim()).not.toBe('');
      expect(c.province).toBe('Quảng Ninh');
      expect(Array.isArray(c.wards)).toBe(true);
      expect(unique(c.wards)).toBe(true);
    }
    for (const district of ['Hạ Long', 'Cẩm Phả', 'Uông Bí']) {
      expect(couriers.some((c) => sameDistrict(c.district, district))).toBe(true);
    }
    for (const a of agencies) expect(couriers.some((c) => sameDistrict(c.district, a.district) && c.wards.length === 0)).toBe(true);
    expect(couriers.some((c) => c.wards.includes('Hồng Gai') && c.wards.includes('Bạch Đằng'))).toBe(true);
  });
});

describe('tariff', () => {
  it('has whole positive VND for every service and route', () => {
    for (const service of [tariff.pickup, tariff.delivery, tariff.redelivery]) {
      for (const v of [service.sameDistrict, service.sameProvince, service.interProvince]) {
        expect(Number.isSafeInteger(v) && v > 0).toBe(true);
      }
      expect(service.sameDistrict).toBeLessThanOrEqual(service.sameProvince);
      expect(service.sameProvince).toBeLessThanOrEqual(service.interProvince);
    }
    expect(tariff.pickup).toEqual({ sameDistrict: 20000, sameProvince: 25000, interProvince: 35000 });
  });

  it('dates are well-formed', () => {
    expect(calendars.every((c) => [...c.holidays, ...c.workingDays].every(isLocalDate))).toBe(true);
  });
});
