import fc from 'fast-check';
import { WorkingCalendar } from '../../domain/calendar';
import { register } from '../../domain/lifecycle';
import { chooseCourier, districtUnit, normalizeArea, routeClass, sameArea, sameDistrict, transitDays } from '../../domain/routes';
import * as ref from '../../reference-data';
import { submission } from '../support/fixtures';

const HL = { province: 'Quảng Ninh', district: 'Hạ Long' };
const CP = { province: 'Quảng Ninh', district: 'Cẩm Phả' };
const HN = { province: 'Hà Nội', district: 'Ba Đình' };
const HCM = { province: 'Hồ Chí Minh', district: 'Quận 1' };
const CLASS_ONE = ['Thành phố Hà Nội', 'TP. Hồ Chí Minh', 'Hải Phòng', 'Đà Nẵng', 'Cần Thơ'];

describe('sameArea', () => {
  it('ignores case, spacing, Unicode form and administrative prefixes', () => {
    expect(sameArea('Hạ Long', 'Thành phố Hạ Long')).toBe(true);
    expect(sameArea('hạ  long ', 'TP. Hạ Long')).toBe(true);
    expect(sameArea('TP.Hạ Long', 'TP Hạ Long')).toBe(true);
    expect(sameArea('Tỉnh Quảng Ninh', 'QUẢNG NINH')).toBe(true);
    expect(sameArea('Hạ Long'.normalize('NFD'), 'Hạ Long')).toBe(true);
    expect(sameArea('Huyện Vân Đồn', 'Vân Đồn')).toBe(true);
    expect(sameArea('Thị xã Quảng Yên', 'Quảng Yên')).toBe(true);
    expect(sameArea('Phường Hồng Gai', 'Hồng Gai')).toBe(true);
    expect(sameArea('Xã Hạ Long', 'Hạ Long')).toBe(true);
    expect(sameArea('Thị trấn Cái Rồng', 'Cái Rồng')).toBe(true);
    expect(sameArea('Quận 1', '1')).toBe(true);
  });

  it('treats old and new tone placement as the same name', () => {
    expect(sameArea('Khánh Hòa', 'Khánh Hoà')).toBe(true);
    expect(sameArea('Thủy Nguyên', 'Thuỷ Nguyên')).toBe(true);
    expect(sameArea('Thanh Hóa', 'THANH HOÁ')).toBe(true);
    expect(sameArea('Cửa Ông', 'Cưả Ông')).toBe(false); // ư keeps its mark: not an oa/oe/uy case
  });

  it('keeps different names apart', () => {
    expect(sameArea('Hạ Long', 'Hà Long')).toBe(false);
    expect(sameArea('Cẩm Phả', 'Uông Bí')).toBe(false);
    expect(sameArea('Tphạm', 'phạm')).toBe(false); // a prefix must stand alone
    expect(sameArea('', '')).toBe(false);
    expect(sameArea('  ', 'Thành phố')).toBe(false);
    expect(normalizeArea('Xã')).toBe('xã');
  });
});

describe('routeClass', () => {
  it('classifies by district and province', () => {
    expect(routeClass(HL, { province: 'Tỉnh Quảng Ninh', district: 'TP Hạ Long' })).toBe('same_district');
    expect(routeClass(HL, CP)).toBe('same_province');
    expect(routeClass(HL, HN)).toBe('inter_province');
    expect(routeClass(HN, HCM)).toBe('inter_province'); // no list configured
    expect(routeClass(HN, HCM, CLASS_ONE)).toBe('class_one_cities');
    expect(routeClass(HL, HN, CLASS_ONE)).toBe('inter_province');
    expect(routeClass(HN, { province: 'Hà Nội', district: 'Cầu Giấy' }, CLASS_ONE)).toBe('same_province');
    expect(routeClass({ province: 'Quảng Ninh', district: '' }, { province: 'Quảng Ninh', district: '' })).toBe(
      'same_province',
    );
  });

  it('gives the Circular 17 transit days', () => {
    expect(transitDays('same_district')).toBe(1);
    expect(transitDays('same_province')).toBe(2);
    expect(transitDays('class_one_cities')).toBe(3);
    expect(transitDays('inter_province')).toBe(4);
  });

  it('is symmetric', () => {
    const province = fc.constantFrom('Quảng Ninh', 'Tỉnh Quảng Ninh', 'Hà Nội', 'Thành phố Hà Nội', 'Hồ Chí Minh', 'Khánh Hòa', 'Khánh Hoà', '');
    const district = fc.constantFrom('Hạ Long', 'TP. Hạ Long', 'Cẩm Phả', 'Quận 1', '1', 'Ba Đình', '');
    const area = fc.record({ province, district });
    const list = fc.subarray(['Hà Nội', 'TP. Hồ Chí Minh', 'Quảng Ninh', 'Khánh Hòa']);
    fc.assert(
      fc.property(area, area, list, (a, b, l) => {
        expect(routeClass(a, b, l)).toBe(routeClass(b, a, l));
      }),
      { numRuns: 300 },
    );
  });

  it('sameArea is symmetric and normalizeArea idempotent', () => {
    const prefix = fc.constantFrom('', 'Tỉnh ', 'Thành phố ', 'TP. ', 'tp ', 'Quận ', 'Huyện ', 'Phường ', 'Xã ', '  ');
    const name = fc.constantFrom('Hạ Long', 'hạ long', 'Hoà Bình', 'Hòa Bình', 'Uông Bí', 'Cẩm Phả', 'x');
    fc.assert(
      fc.property(prefix, name, prefix, name, (p1, n1, p2, n2) => {
        expect(sameArea(p1 + n1, p2 + n2)).toBe(sameArea(p2 + n2, p1 + n1));
        expect(sameArea(p1 + n1, n1.toUpperCase())).toBe(true);
        const once = normalizeArea(p1 + n1);
        expect(normalizeArea(once)).toBe(once);
      }),
      { numRuns: 300 },
    );
  });
});

describe('districts with the same name (issue 12)', () => {
  const HT = 'Hà Tĩnh';
  const DT = 'Đồng Tháp';
  it('tells units of different types apart within a province', () => {
    expect(sameDistrict('Huyện Kỳ Anh', 'Thị xã Kỳ Anh')).toBe(false);
    expect(sameDistrict('Huyện Hồng Ngự', 'Thành phố Hồng Ngự')).toBe(false);
    expect(sameDistrict('Huyện Hồng Ngự', 'TP. Hồng Ngự')).toBe(false);
    expect(routeClass({ province: HT, district: 'Huyện Kỳ Anh' }, { province: HT, district: 'Thị xã Kỳ Anh' })).toBe('same_province');
    expect(routeClass({ province: DT, district: 'Thành phố Hồng Ngự' }, { province: DT, district: 'Huyện Hồng Ngự' })).toBe('same_province');
    // Dossiers started under rules 1 keep the name-only comparison.
    expect(routeClass({ province: HT, district: 'Huyện Kỳ Anh' }, { province: HT, district: 'Thị xã Kỳ Anh' }, [], false)).toBe('same_district');
  });
  it('matches the same unit however it is spelled, and a name without its type', () => {
    expect(sameDistrict('Thành phố Hồng Ngự', 'TP Hồng Ngự')).toBe(true);
    expect(sameDistrict('thị xã  kỳ anh', 'Thị xã Kỳ Anh')).toBe(true);
    expect(sameDistrict('Kỳ Anh', 'Huyện Kỳ Anh')).toBe(true);
    expect(sameDistrict('Quận 1', 'Quận 1')).toBe(true);
    expect(sameDistrict('Quận 1', 'Huyện 1')).toBe(false);
    expect(sameDistrict('Hạ Long', 'Thành phố Hạ Long')).toBe(true);
    expect(sameDistrict('', '')).toBe(false);
    expect(districtUnit('Thị xã Kỳ Anh')).toEqual({ type: 'thị xã', name: 'kỳ anh' });
    expect(districtUnit('Kỳ Anh')).toEqual({ type: null, name: 'kỳ anh' });
    expect(districtUnit('Thị trấn Cái Rồng')).toEqual({ type: null, name: 'cái rồng' });
  });
  it('the courier of one unit is not given the jobs of its namesake', () => {
    const courier = (id: string, district: string) => ({ id, name: id, province: HT, district, wards: [] });
    const couriers = [courier('KA-H', 'Huyện Kỳ Anh'), courier('KA-TX', 'Thị xã Kỳ Anh')];
    const at = (district: string) => ({ line: '1', ward: 'x', district, province: HT });
    expect(chooseCourier(couriers, at('Thị xã Kỳ Anh'))?.id).toBe('KA-TX');
    expect(chooseCourier(couriers, at('Huyện Kỳ Anh'))?.id).toBe('KA-H');
  });
  it('the tariff charges the same-province rate between namesakes (rules 2)', () => {
    const sub = (rules: 1 | 2) => {
      const ctx = { now: Date.parse('2026-03-02T02:00:00Z'), calendar: new WorkingCalendar(ref.calendars) };
      const ag = { id: 'HT-KA', name: 'UBND thị xã Kỳ Anh', province: HT, district: 'Thị xã Kỳ Anh', handoff: { mode: 'manual' as const } };
      const address = { line: '1', ward: 'Kỳ Đồng', district: 'Huyện Kỳ Anh', province: HT };
      const procedure = ref.procedures[0]!;
      return register(
        {
          submission: submission({ procedureCode: procedure.code, agencyId: ag.id, pickupAddress: address, delivery: { method: 'home', address }, submittedAt: '2026-03-02T09:00:00+07:00' }),
          procedure,
          agency: ag,
          tariff: ref.tariff,
          settings: { supplementRule: 'restart', classOneProvinces: [], ...(rules === 2 ? { rules: 2 as const } : {}) },
        },
        ctx,
      ).state;
    };
    expect(sub(2).routes).toEqual({ pickup: 'same_province', delivery: 'same_province' });
    expect(sub(1).routes).toEqual({ pickup: 'same_district', delivery: 'same_district' });
    const pickupFee = (s: ReturnType<typeof sub>) => s.fees.items.find((i) => i.kind === 'pickup')!.amountVnd;
    expect(pickupFee(sub(2))).toBe(ref.tariff.pickup.sameProvince);
    expect(pickupFee(sub(1))).toBe(ref.tariff.pickup.sameDistrict);
  });
});

test('the reference data holds no namesakes that a district without its type would confuse', () => {
  const units = new Map<string, Set<string>>();
  for (const a of [...ref.agencies, ...ref.couriers]) {
    const u = districtUnit(a.district);
    const key = `${normalizeArea(a.province)}/${u.name}`;
    units.set(key, (units.get(key) ?? new Set()).add(u.type ?? '(untyped)'));
  }
  expect([...units].filter(([, types]) => types.size > 1)).toEqual([]);
});
