/** Which counts tables answer a summary, month by month of its window. */
import type { SummaryQuery } from '../tally';

function lastDayOf(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
}

export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.slice(0, 7).split('-').map(Number) as [number, number];
  const end = to.slice(0, 7);
  for (;;) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (month > end) return out;
    out.push(month);
    if (++m === 13) [y, m] = [y + 1, 1];
  }
}

export function daysOf(month: string): string[] {
  const last = Number(lastDayOf(month).slice(8));
  return Array.from({ length: last }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}

/**
 * Which tables a month of the window is read from: the month table, day ×
 * stage × owner, the included days, or (most of a month) the month table less
 * the excluded days.
 */
export type CountsPath = 'month' | 'byday' | 'days' | 'month-less-days';

/** The smallest reading that answers the query for one month of its window. */
export function countsPathFor(q: SummaryQuery, month: string): CountsPath {
  const g = q.groupBy ?? 'agency';
  const needsDims = q.agencyId || q.procedureCode || g === 'agency' || g === 'procedure' || g === 'district';
  if (!needsDims) return 'byday';
  if (g === 'day') return 'days';
  const days = daysOf(month);
  const inWindow = days.filter((d) => d >= q.from && d <= q.to).length;
  if (inWindow === days.length) return 'month';
  return inWindow > days.length / 2 ? 'month-less-days' : 'days';
}
