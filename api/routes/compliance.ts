import { Router, type Request, type Response } from 'express';
import type { Db } from 'mongodb';
import { z } from 'zod';
import { dayNumber, formatInstant, isLocalDate, localDate as localDateOf } from '../../domain/calendar';
import { STAGES } from '../../domain/dossier';
import { atRiskDeadlines, complianceSummary, GROUP_BYS, overdueDeadlines } from '../../store/compliance';
import {
  CSV_TYPE,
  deadlineItem,
  deadlineListCsv,
  deadlineListXlsx,
  FORMATS,
  summaryCsv,
  summaryXlsx,
  XLSX_TYPE,
  type DeadlineItem,
  type Format,
} from '../compliance-export';
import { requireRole } from '../auth';
import { parseOr400 } from '../problem';
import { intParam, localDate } from '../schemas';
import type { AtRiskBody, ComplianceSummaryBody, OverdueBody } from '../response-schemas';

export interface ComplianceRoutesDeps {
  db: Db;
  /** The clock, for tests; epoch milliseconds. */
  now?: () => number;
}

const filterText = z.string().trim().min(1).max(64);
const format = z.enum(FORMATS).optional();

/**
 * The widest summary window: a year and a day, like the snapshots. The work a
 * summary does grows with its months, so the window is what bounds it.
 */
export const MAX_SUMMARY_RANGE_DAYS = 366;
/** Items a list answers at most; the default when `limit` is absent. */
export const MAX_LIST_LIMIT = 500;
const DEFAULT_LIST_LIMIT = 100;
/** The at-risk window: 30 days ahead at most. */
export const MAX_AT_RISK_HOURS = 720;

// Strict, like the paged dossier list: an unknown (mistyped) parameter is a 400, never a silently wider answer.
export const summaryQuery = z
  .strictObject({
    from: localDate,
    to: localDate,
    groupBy: z.enum(GROUP_BYS).optional(),
    stage: z.enum(STAGES).optional(),
    agencyId: filterText.optional(),
    procedureCode: filterText.optional(),
    format,
  })
  .superRefine((q, ctx) => {
    // zod runs this even when a field failed: only compare two real dates.
    if (!isLocalDate(q.from) || !isLocalDate(q.to)) return;
    if (q.from > q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (dayNumber(q.to) - dayNumber(q.from) + 1 > MAX_SUMMARY_RANGE_DAYS) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${MAX_SUMMARY_RANGE_DAYS} days from from (ask for one year at a time)` });
    }
  });

export const overdueQuery = z.strictObject({
  stage: z.enum(STAGES).optional(),
  agencyId: filterText.optional(),
  limit: intParam(1, MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT),
  format,
});

export const atRiskQuery = z.strictObject({
  withinHours: intParam(1, MAX_AT_RISK_HOURS, 24),
  limit: intParam(1, MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT),
  format,
});

// `?format=` wins; otherwise the Accept header, JSON first so a browser's */* gets JSON.
function negotiate(req: Request, res: Response, asked: Format | undefined): Format {
  res.vary('Accept');
  if (asked) return asked;
  const type = req.accepts(['application/json', 'text/csv', XLSX_TYPE]);
  return type === 'text/csv' ? 'csv' : type === XLSX_TYPE ? 'xlsx' : 'json';
}

function sendFile(res: Response, f: 'csv' | 'xlsx', name: string, body: string | Buffer): void {
  res
    .status(200)
    .type(f === 'csv' ? CSV_TYPE : XLSX_TYPE)
    .attachment(`${name}.${f}`)
    .send(body);
}

async function sendList(res: Response, f: Format, json: object, items: DeadlineItem[], file: { name: string; sheetName: string; title: string; subtitle: string }) {
  if (f === 'json') res.json(json);
  else sendFile(res, f, file.name, f === 'csv' ? deadlineListCsv(items) : await deadlineListXlsx(items, file));
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
    const f = negotiate(req, res, q.format);
    const name = `compliance-${q.from}-${q.to}-${groupBy}`;
    if (f === 'csv') sendFile(res, f, name, summaryCsv(summary));
    else if (f === 'xlsx') sendFile(res, f, name, await summaryXlsx(summary, { from: q.from, to: q.to, groupBy, filters }));
    else res.json({ from: q.from, to: q.to, groupBy, filters, rows: summary.rows, totals: summary.totals } satisfies ComplianceSummaryBody);
  });

  router.get('/v1/compliance/overdue', managers, async (req, res) => {
    const q = parseOr400(overdueQuery, req.query ?? {}, '(query)');
    const at = formatInstant(now());
    const items = (await overdueDeadlines(deps.db, q)).map(deadlineItem);
    const filters = [q.stage && `stage=${q.stage}`, q.agencyId && `agencyId=${q.agencyId}`].filter(Boolean).join(', ') || 'không / none';
    await sendList(res, negotiate(req, res, q.format), { limit: q.limit, items } satisfies OverdueBody, items, {
      name: `compliance-overdue-${localDateOf(at)}`,
      sheetName: 'Quá hạn - Overdue',
      title: `Thời hạn đã quá / Overdue deadlines, lúc / at ${at}`,
      subtitle: `Lọc / Filters: ${filters}; tối đa / at most ${q.limit}, hạn sớm nhất trước / oldest due first`,
    });
  });

  router.get('/v1/compliance/at-risk', managers, async (req, res) => {
    const q = parseOr400(atRiskQuery, req.query ?? {}, '(query)');
    const at = now();
    const [from, until] = [formatInstant(at), formatInstant(at + q.withinHours * 3600_000)];
    const items = (await atRiskDeadlines(deps.db, { withinHours: q.withinHours, now: at, limit: q.limit })).map(deadlineItem);
    await sendList(res, negotiate(req, res, q.format), { withinHours: q.withinHours, from, until, limit: q.limit, items } satisfies AtRiskBody, items, {
      name: `compliance-at-risk-${localDateOf(from)}`,
      sheetName: 'Sắp đến hạn - At risk',
      title: `Thời hạn sắp đến / Deadlines due soon: ${from} – ${until}`,
      subtitle: `Trong / within ${q.withinHours} h; tối đa / at most ${q.limit}, hạn sớm nhất trước / soonest first`,
    });
  });

  return router;
}
