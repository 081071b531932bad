import { Router } from 'express';
import type { Db } from 'mongodb';
import { z } from 'zod';
import { formatInstant } from '../../domain/calendar';
import { STAGES } from '../../domain/dossier';
import { atRiskDeadlines, complianceSummary, GROUP_BYS, overdueDeadlines, type Counts, type Summary } from '../../store/compliance';
import type { DeadlineDoc } from '../../store/read-model';
import { requireRole } from '../auth';
import { parseOr400 } from '../problem';
import { intParam, localDate } from '../schemas';

export interface ComplianceRoutesDeps {
  db: Db;
  /** The clock, for tests; epoch milliseconds. */
  now?: () => number;
}

const filterText = z.string().trim().min(1).max(64);

const summaryQuery = z
  .object({
    from: localDate,
    to: localDate,
    groupBy: z.enum(GROUP_BYS).optional(),
    stage: z.enum(STAGES).optional(),
    agencyId: filterText.optional(),
    procedureCode: filterText.optional(),
    format: z.enum(['json', 'csv']).optional(),
  })
  .refine((q) => q.from <= q.to, { path: ['to'], message: 'must not be before from' });

const overdueQuery = z.object({
  stage: z.enum(STAGES).optional(),
  agencyId: filterText.optional(),
  limit: intParam(1, 500, 100),
});

const atRiskQuery = z.object({
  withinHours: intParam(1, 720, 24),
});

function item(d: DeadlineDoc) {
  return {
    dossierCode: d.dossierCode,
    stage: d.stage,
    owner: d.owner,
    agencyId: d.agencyId,
    procedureCode: d.procedureCode,
    dueAt: formatInstant(d.dueAt.getTime()),
    revisedDueAt: d.revisedDueAt ? formatInstant(d.revisedDueAt.getTime()) : null,
    startedAt: formatInstant(d.startedAt.getTime()),
    state: d.state,
    links: { dossier: `/v1/dossiers/${encodeURIComponent(d.dossierCode)}` },
  };
}

export const CSV_HEADER = [
  'Nhóm / Group',
  'Tổng / Total',
  'Đúng hạn / On time',
  'Trễ hạn / Late',
  'Đang xử lý / Open',
  'Quá hạn / Overdue',
  'Tỷ lệ đúng hạn / On-time rate',
] as const;
/** The label of the totals line, last in the CSV. */
export const CSV_TOTALS_LABEL = 'Tổng cộng / Totals';

/** RFC 4180 quoting; text cells that a spreadsheet would run as a formula are neutralised with a leading quote. */
function csvCell(value: string | number | null, text = false): string {
  if (value === null) return '';
  let s = String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvLine(key: string, c: Counts): string {
  return [csvCell(key, true), ...[c.total, c.metOnTime, c.metLate, c.open, c.overdue, c.onTimeRate].map((v) => csvCell(v))].join(',');
}

/** The summary as CSV: a BOM (so spreadsheets read UTF-8), the header, a line per row, then the totals. */
export function summaryCsv(summary: Summary): string {
  const lines = [CSV_HEADER.map((h) => csvCell(h)).join(','), ...summary.rows.map((r) => csvLine(r.key, r)), csvLine(CSV_TOTALS_LABEL, summary.totals)];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

export function complianceRoutes(deps: ComplianceRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  const managers = requireRole('manager', 'admin');

  router.get('/v1/compliance/summary', managers, async (req, res) => {
    const q = parseOr400(summaryQuery, req.query ?? {}, '(query)');
    const groupBy = q.groupBy ?? 'agency';
    const filters = {
      ...(q.stage ? { stage: q.stage } : {}),
      ...(q.agencyId ? { agencyId: q.agencyId } : {}),
      ...(q.procedureCode ? { procedureCode: q.procedureCode } : {}),
    };
    const summary = await complianceSummary(deps.db, { from: q.from, to: q.to, groupBy, ...filters });
    const csv = q.format === 'csv' || (q.format === undefined && req.accepts(['application/json', 'text/csv']) === 'text/csv');
    res.vary('Accept');
    if (csv) {
      res
        .status(200)
        .type('text/csv; charset=utf-8')
        .attachment(`compliance-${q.from}-${q.to}-${groupBy}.csv`)
        .send(summaryCsv(summary));
      return;
    }
    res.json({ from: q.from, to: q.to, groupBy, filters, rows: summary.rows, totals: summary.totals });
  });

  router.get('/v1/compliance/overdue', managers, async (req, res) => {
    const q = parseOr400(overdueQuery, req.query ?? {}, '(query)');
    const docs = await overdueDeadlines(deps.db, q);
    res.json({ limit: q.limit, items: docs.map(item) });
  });

  router.get('/v1/compliance/at-risk', managers, async (req, res) => {
    const q = parseOr400(atRiskQuery, req.query ?? {}, '(query)');
    const at = now();
    const docs = await atRiskDeadlines(deps.db, { withinHours: q.withinHours, now: at });
    res.json({ withinHours: q.withinHours, from: formatInstant(at), until: formatInstant(at + q.withinHours * 3600_000), items: docs.map(item) });
  });

  return router;
}
