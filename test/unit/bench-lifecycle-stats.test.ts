import { backlogTrend, bytesPer, percentile, ratio, summarize, throughput } from '../../bench/lifecycle/stats';

describe('bench:lifecycle statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(summarize([30, 10, 20])).toEqual({ n: 3, p50: 20, p99: 30, max: 30 });
  });

  it('gives a ratio only when there is something to compare with', () => {
    expect(ratio(4, 5)).toBeCloseTo(0.8);
    expect(ratio(4, 0)).toBeNull();
    expect(ratio(null, 5)).toBeNull();
    expect(ratio(Number.NaN, 5)).toBeNull();
  });

  it('counts completions per second inside the window only', () => {
    expect(throughput([999, 1000, 1500, 2999, 3000], 1000, 3000)).toBe(1.5);
    expect(throughput([1], 5, 5)).toBe(0);
  });

  it('tells a level in-flight count from a growing one', () => {
    const at = (i: number) => i * 2000;
    const level = Array.from({ length: 30 }, (_, i) => ({ at: at(i), value: 40 + (i % 3) }));
    const growing = Array.from({ length: 30 }, (_, i) => ({ at: at(i), value: 40 + 4 * i }));
    expect(backlogTrend(level, 10).growing).toBe(false);
    const g = backlogTrend(growing, 10);
    expect(g.growing).toBe(true);
    expect(g.perMinute).toBeCloseTo(120); // 4 every 2 s
    expect(backlogTrend(level.slice(0, 2), 10).growing).toBe(false);
  });

  it('divides memory by what was added', () => {
    expect(bytesPer(1000, 3000, 4)).toBe(500);
    expect(bytesPer(1000, 3000, 0)).toBeNull();
  });
});
