import fc from 'fast-check';
import { normalizeArea, routeClass, sameArea, transitDays } from '../../domain/routes';

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
