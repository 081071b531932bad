import fc from 'fast-check';
import { chargeFor, quoteFees, redeliveryCharge, totalVnd, type FeeItem } from '../../domain/fees';
import type { Procedure, RouteClass } from '../../domain/types';
import { procedures, tariff } from '../../reference-data';

const judicial = procedures.find((p) => p.code === '2.000488')!;
const routes: RouteClass[] = ['same_district', 'same_province', 'class_one_cities', 'inter_province'];

describe('chargeFor', () => {
  it('picks the tariff column by route class; class-I cities pay inter-province', () => {
    expect(chargeFor(tariff.pickup, 'same_district')).toBe(20000);
    expect(chargeFor(tariff.pickup, 'same_province')).toBe(25000);
    expect(chargeFor(tariff.pickup, 'class_one_cities')).toBe(35000);
    expect(chargeFor(tariff.pickup, 'inter_province')).toBe(35000);
  });

  it('refuses non-integer or negative amounts', () => {
    expect(() => chargeFor({ sameDistrict: 1.5, sameProvince: 0, interProvince: 0 }, 'same_district')).toThrow(RangeError);
    expect(() => chargeFor({ sameDistrict: -1, sameProvince: 0, interProvince: 0 }, 'same_district')).toThrow(RangeError);
  });
});

describe('quoteFees', () => {
  it('quotes procedure fees for the agency and postal charges for the post', () => {
    const items = quoteFees({
      procedure: judicial,
      tariff,
      services: { collect: true, deliver: true },
      deliveryMethod: 'home',
      pickupRoute: 'same_district',
      deliveryRoute: 'same_province',
    });
    expect(items).toEqual<FeeItem[]>([
      { name: 'Phí cung cấp thông tin lý lịch tư pháp', amountVnd: 200000, payee: 'agency', kind: 'procedure' },
      { name: 'Cước thu gom hồ sơ', amountVnd: 20000, payee: 'post', kind: 'pickup' },
      { name: 'Cước chuyển phát kết quả', amountVnd: 28000, payee: 'post', kind: 'delivery' },
    ]);
    expect(totalVnd(items)).toBe(248000);
  });

  it('charges no delivery for counter collection, and only what is used', () => {
    const counter = quoteFees({
      procedure: judicial,
      tariff,
      services: { collect: true, deliver: true },
      deliveryMethod: 'counter',
      pickupRoute: 'same_province',
    });
    expect(counter.map((i) => i.kind)).toEqual(['procedure', 'pickup']);
    const deliverOnly = quoteFees({ procedure: judicial, tariff, services: { collect: false, deliver: true }, deliveryRoute: 'inter_province' });
    expect(deliverOnly.map((i) => [i.kind, i.amountVnd])).toEqual([['procedure', 200000], ['delivery', 38000]]);
  });

  it('omits zero-amount procedure fees, one item per catalogue fee', () => {
    const proc: Procedure = {
      code: 'X',
      name: 'x',
      processingDays: 1,
      fees: [
        { name: 'Phí A', amountVnd: 10000 },
        { name: 'Miễn phí', amountVnd: 0 },
        { name: 'Lệ phí B', amountVnd: 5000 },
      ],
    };
    const items = quoteFees({ procedure: proc, tariff, services: { collect: false, deliver: false } });
    expect(items.map((i) => i.name)).toEqual(['Phí A', 'Lệ phí B']);
    expect(totalVnd(items)).toBe(15000);
    const land = procedures.find((p) => p.code === '1.001234')!;
    expect(quoteFees({ procedure: land, tariff, services: { collect: false, deliver: false } })).toEqual([]);
  });

  it('throws when a charged service has no route', () => {
    expect(() => quoteFees({ procedure: judicial, tariff, services: { collect: true, deliver: false } })).toThrow(/pickup route/);
    expect(() =>
      quoteFees({ procedure: judicial, tariff, services: { collect: false, deliver: true }, deliveryMethod: 'home' }),
    ).toThrow(/delivery route/);
    expect(() =>
      quoteFees({ procedure: judicial, tariff, services: { collect: false, deliver: true }, deliveryMethod: 'counter' }),
    ).not.toThrow();
  });

  it('redelivery is a post charge by route', () => {
    expect(redeliveryCharge(tariff, 'same_district')).toEqual({ name: 'Cước phát lại', amountVnd: 15000, payee: 'post', kind: 'redelivery' });
    expect(redeliveryCharge(tariff, 'class_one_cities').amountVnd).toBe(25000);
  });

  it('the total is the sum of procedure fees and postal charges', () => {
    const route = fc.constantFrom(...routes);
    fc.assert(
      fc.property(
        fc.constantFrom(...procedures),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom<'home' | 'counter'>('home', 'counter'),
        route,
        route,
        (procedure, collect, deliver, deliveryMethod, pickupRoute, deliveryRoute) => {
          const items = quoteFees({ procedure, tariff, services: { collect, deliver }, deliveryMethod, pickupRoute, deliveryRoute });
          const agency = items.filter((i) => i.payee === 'agency');
          expect(totalVnd(agency)).toBe(procedure.fees.reduce((s, f) => s + f.amountVnd, 0));
          expect(items.some((i) => i.kind === 'pickup')).toBe(collect);
          expect(items.some((i) => i.kind === 'delivery')).toBe(deliver && deliveryMethod === 'home');
          expect(items.every((i) => (i.kind === 'procedure') === (i.payee === 'agency'))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
