/**
 * Fee quote: the procedure's fees and charges (collected by the post on the
 * agency's behalf and remitted in full) plus the postal charges the citizen pays
 * (Decision 45/2016/QĐ-TTg), by service and route class. Amounts are whole VND.
 */
import type { Procedure, RouteCharges, RouteClass, Tariff } from './types';

export type FeeKind = 'procedure' | 'pickup' | 'delivery' | 'redelivery';

export interface FeeItem {
  name: string;
  amountVnd: number;
  payee: 'post' | 'agency';
  kind: FeeKind;
}

export const PICKUP_CHARGE_NAME = 'Cước thu gom hồ sơ';
export const DELIVERY_CHARGE_NAME = 'Cước chuyển phát kết quả';
export const REDELIVERY_CHARGE_NAME = 'Cước phát lại';

function checkAmount(amount: number, what: string): number {
  // VND has no minor unit; a fractional or negative amount is bad data.
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`${what}: invalid VND amount ${amount}`);
  return amount;
}

/** The tariff column for a route; class-I cities are charged as inter-province. */
export function chargeFor(charges: RouteCharges, rc: RouteClass): number {
  switch (rc) {
    case 'same_district':
      return checkAmount(charges.sameDistrict, 'sameDistrict');
    case 'same_province':
      return checkAmount(charges.sameProvince, 'sameProvince');
    case 'class_one_cities':
    case 'inter_province':
      return checkAmount(charges.interProvince, 'interProvince');
    default: {
      const unknown: never = rc;
      throw new RangeError(`unknown route class: ${String(unknown)}`);
    }
  }
}

export interface QuoteInput {
  procedure: Procedure;
  tariff: Tariff;
  services: { collect: boolean; deliver: boolean };
  /** Only read when `services.deliver`; absent means home delivery. */
  deliveryMethod?: 'home' | 'counter';
  pickupRoute?: RouteClass;
  deliveryRoute?: RouteClass;
}

/**
 * Items in a stable order: procedure fees (catalogue order, zero amounts
 * omitted), then the pickup charge, then the delivery charge. Postal items are
 * kept even at 0 VND (a subsidised service is still a service rendered).
 * Counter collection carries no delivery charge. Throws when a charged service
 * has no route.
 */
export function quoteFees(input: QuoteInput): FeeItem[] {
  const { procedure, tariff, services } = input;
  const items: FeeItem[] = [];
  for (const fee of procedure.fees) {
    if (checkAmount(fee.amountVnd, `fee "${fee.name}"`) === 0) continue;
    items.push({ name: fee.name, amountVnd: fee.amountVnd, payee: 'agency', kind: 'procedure' });
  }
  if (services.collect) {
    if (input.pickupRoute === undefined) throw new RangeError('pickup route required when the post collects the dossier');
    items.push({
      name: PICKUP_CHARGE_NAME,
      amountVnd: chargeFor(tariff.pickup, input.pickupRoute),
      payee: 'post',
      kind: 'pickup',
    });
  }
  if (services.deliver && (input.deliveryMethod ?? 'home') === 'home') {
    if (input.deliveryRoute === undefined) throw new RangeError('delivery route required for home delivery');
    items.push({
      name: DELIVERY_CHARGE_NAME,
      amountVnd: chargeFor(tariff.delivery, input.deliveryRoute),
      payee: 'post',
      kind: 'delivery',
    });
  }
  return items;
}

/** The charge added when the citizen asks for another delivery attempt. */
export function redeliveryCharge(tariff: Tariff, rc: RouteClass): FeeItem {
  return { name: REDELIVERY_CHARGE_NAME, amountVnd: chargeFor(tariff.redelivery, rc), payee: 'post', kind: 'redelivery' };
}

export function totalVnd(items: FeeItem[]): number {
  return items.reduce((sum, item) => sum + checkAmount(item.amountVnd, `item "${item.name}"`), 0);
}
