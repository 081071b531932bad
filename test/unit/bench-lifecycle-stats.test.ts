import { backlogTrend, bytesPer, percentile, ratio, summarize, throughput } from '../../bench/lifecycle/stats';
import { parseMachineBusy, parseProcStat, treeTicks } from '../../bench/lifecycle/cpu';

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

describe('bench:lifecycle CPU readings', () => {
  it('reads utime + stime + cutime + cstime of a stat line whose command holds spaces and parentheses', () => {
    const line = '4242 (node (api) x) S 100 4242 4242 0 -1 4194560 1 0 0 0 250 50 7 3 20 0 11 0 1 2 3';
    expect(parseProcStat(line)).toEqual({ pid: 4242, ppid: 100, ticks: 310 });
    expect(parseProcStat('garbage')).toBeNull();
  });

  it('sums a process and its live descendants, not its siblings', () => {
    const stats = [
      { pid: 1, ppid: 0, ticks: 1000 },
      { pid: 10, ppid: 1, ticks: 5 },
      { pid: 11, ppid: 10, ticks: 7 },
      { pid: 12, ppid: 1, ticks: 100 },
    ];
    expect(treeTicks(stats, 10)).toBe(12);
    expect(treeTicks(stats, 99)).toBe(0);
  });

  it('counts the machine busy without idle and iowait', () => {
    expect(parseMachineBusy('cpu  100 5 20 1000 40 1 2 3 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0')).toBe(131);
  });
});
