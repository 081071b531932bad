/**
 * Postal route classes and transit standards (Circular 17/2017/TT-BTTTT Art. 7):
 * same district J+1, same province J+2, between class-I cities J+3, other
 * inter-province J+4 working days.
 */
import type { Address, Courier, RouteClass } from './types';

export interface Area {
  province: string;
  district: string;
}

// Longest first so "thành phố" wins over shorter prefixes; "tp." before "tp".
const ADMIN_PREFIXES = [
  'thành phố',
  'thị trấn',
  'thị xã',
  'phường',
  'huyện',
  'quận',
  'tỉnh',
  'tp.',
  'tp',
  'xã',
].map((p) => p.normalize('NFC'));

// Tone marks (NFD combining characters): grave, acute, tilde, hook above, dot below.
const TONE_MARKS = '\u0300\u0301\u0303\u0309\u0323';
// "Hòa"/"Hoà", "Thủy"/"Thuỷ": old and new tone placement on oa, oe, uy are the same name.
const OLD_STYLE_TONE = new RegExp(`([oOuU])([${TONE_MARKS}])([aAeEyY])`, 'g');

/**
 * The comparable form of an administrative name: NFC, tone placement unified,
 * lower case, trimmed, single spaces, without a leading administrative prefix
 * ("Thành phố Hạ Long", "TP. Hạ Long" and "hạ  long" all give "hạ long").
 */
export function normalizeArea(name: string): string {
  let s = name.normalize('NFD').replace(OLD_STYLE_TONE, '$1$3$2').normalize('NFC');
  s = s.toLowerCase().replace(/\s+/g, ' ').trim();
  for (const prefix of ADMIN_PREFIXES) {
    if (!s.startsWith(prefix)) continue;
    const rest = s.slice(prefix.length);
    // A prefix must stand alone ("TP Hạ Long", "TP.Hạ Long"), not begin a word ("Tpham").
    if (!prefix.endsWith('.') && rest !== '' && !/^[\s.]/.test(rest)) continue;
    const stripped = rest.replace(/^[\s.]+/, '').trim();
    if (stripped !== '') s = stripped; // a bare "Xã" stays a name rather than becoming blank
    break;
  }
  return s;
}

/** Whether two names denote the same area; a blank name matches nothing. */
export function sameArea(a: string, b: string): boolean {
  const na = normalizeArea(a);
  return na !== '' && na === normalizeArea(b);
}

/** The kind of a district-level unit, when the name states it. */
export type DistrictType = 'quận' | 'huyện' | 'thị xã' | 'thành phố';

const DISTRICT_TYPES: readonly [string, DistrictType][] = [
  ['thành phố', 'thành phố'],
  ['thị xã', 'thị xã'],
  ['huyện', 'huyện'],
  ['quận', 'quận'],
  ['tp.', 'thành phố'],
  ['tp', 'thành phố'],
];

/**
 * A district-level unit as its type and comparable name: "Thị xã Kỳ Anh" is
 * `{type: 'thị xã', name: 'kỳ anh'}`, "Kỳ Anh" `{type: null, name: 'kỳ anh'}`.
 */
export function districtUnit(district: string): { type: DistrictType | null; name: string } {
  const s = district.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
  const found = DISTRICT_TYPES.find(([prefix]) => s.startsWith(prefix) && (prefix.endsWith('.') || /^[\s.]/.test(s.slice(prefix.length))));
  return { type: found && normalizeArea(district) !== s ? found[1] : null, name: normalizeArea(district) };
}

/**
 * Whether two district names (within one province) denote the same district:
 * same name and, when both state it, the same type. "Huyện Kỳ Anh" and "Thị xã
 * Kỳ Anh" are two districts of Hà Tĩnh; a name without its type ("Kỳ Anh", as
 * the reference data spells districts) cannot tell them apart and matches either.
 */
export function sameDistrict(a: string, b: string): boolean {
  const ua = districtUnit(a);
  const ub = districtUnit(b);
  return ua.name !== '' && ua.name === ub.name && (ua.type === null || ub.type === null || ua.type === ub.type);
}

/**
 * The route class between two addresses. Symmetric. `class_one_cities` applies
 * only when both (different) provinces are in the configured list. With
 * `typedDistricts` (lifecycle rules 2) districts compare with their unit type
 * (`sameDistrict`); without it, by name alone, as dossiers started before did.
 */
export function routeClass(from: Area, to: Area, classOneProvinces: readonly string[] = [], typedDistricts = true): RouteClass {
  if (sameArea(from.province, to.province)) {
    const same = typedDistricts ? sameDistrict(from.district, to.district) : sameArea(from.district, to.district);
    return same ? 'same_district' : 'same_province';
  }
  const classOne = (p: string) => classOneProvinces.some((c) => sameArea(c, p));
  return classOne(from.province) && classOne(to.province) ? 'class_one_cities' : 'inter_province';
}

/** Working days of postal transit, counted from J (the day the post took the item). */
export function transitDays(rc: RouteClass): number {
  switch (rc) {
    case 'same_district':
      return 1;
    case 'same_province':
      return 2;
    case 'class_one_cities':
      return 3;
    case 'inter_province':
      return 4;
    default: {
      const unknown: never = rc;
      throw new RangeError(`unknown route class: ${String(unknown)}`);
    }
  }
}

/**
 * A courier covers an address in its district (with its unit type: "Huyện Kỳ Anh"
 * is not "Thị xã Kỳ Anh"), and its wards when it lists any; ward specialists first.
 */
export function chooseCourier(couriers: Courier[], address: Address | null): Courier | null {
  if (!address) return null;
  const covering = couriers.filter(
    (c) =>
      sameArea(c.province, address.province) &&
      sameDistrict(c.district, address.district) &&
      (c.wards.length === 0 || c.wards.some((w) => sameArea(w, address.ward))),
  );
  covering.sort((a, b) => Number(b.wards.length > 0) - Number(a.wards.length > 0) || a.id.localeCompare(b.id));
  return covering[0] ?? null;
}
