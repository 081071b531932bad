/**
 * The compliance answers as CSV and XLSX: the same rows and totals as the
 * JSON, with Vietnamese / English headers shared by both formats.
 */
import { Workbook, type Worksheet } from 'exceljs';
import { formatInstant, parseInstant } from '../domain/calendar';
import type { Counts, Summary } from '../store/compliance';
import type { ListedDeadline } from '../store/compliance-counts';

export const CSV_TYPE = 'text/csv; charset=utf-8';
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const FORMATS = ['json', 'csv', 'xlsx'] as const;
export type Format = (typeof FORMATS)[number];

export const SUMMARY_HEADER = [
  'Nhóm / Group',
  'Tổng / Total',
  'Đúng hạn / On time',
  'Trễ hạn / Late',
  'Đang xử lý / Open',
  'Quá hạn / Overdue',
  'Tỷ lệ đúng hạn / On-time rate',
  'QĐ 766: đã giải quyết / Decision 766: resolved',
  'QĐ 766: đúng hạn / Decision 766: on time',
  'QĐ 766: trễ hạn / Decision 766: late',
  'QĐ 766: tỷ lệ đúng hạn / Decision 766: on-time rate',
  'QĐ 766: chưa xác định / Decision 766: unjudged',
] as const;
/** The label of the totals line, last in both formats. */
export const TOTALS_LABEL = 'Tổng cộng / Totals';
/** Columns holding a rate (0..1): a percentage in the spreadsheet. */
const SUMMARY_RATE_COLUMNS = new Set([6, 10]);

/** What the summary was asked for, echoed in the spreadsheet's title lines. */
export interface SummaryMeta {
  from: string;
  to: string;
  groupBy: string;
  filters: Record<string, string>;
}

type Cell = string | number | null;

function summaryCells(key: string, c: Counts): Cell[] {
  const i = c.decision766;
  return [key, c.total, c.metOnTime, c.metLate, c.open, c.overdue, c.onTimeRate, i?.resolved ?? null, i?.onTime ?? null, i?.late ?? null, i?.onTimeRate ?? null, i?.unjudged ?? null];
}

const summaryLines = (s: Summary): Cell[][] => [...s.rows.map((r) => summaryCells(r.key, r)), summaryCells(TOTALS_LABEL, s.totals)];

// ---------------------------------------------------------------- CSV

/** RFC 4180 quoting; text cells that a spreadsheet would run as a formula are neutralised with a leading quote. */
function csvCell(value: Cell, text = false): string {
  if (value === null) return '';
  let s = String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A BOM (so spreadsheets read UTF-8), the header, then a line per row, CRLF-terminated. */
function csv(header: readonly string[], lines: Cell[][]): string {
  const out = [header.map((h) => csvCell(h)).join(','), ...lines.map((l) => l.map((v) => csvCell(v, typeof v === 'string')).join(','))];
  return `\uFEFF${out.join('\r\n')}\r\n`;
}

/** The summary as CSV: a line per row, then the totals; a null (no rate, index not applicable) is an empty cell. */
export function summaryCsv(summary: Summary): string {
  return csv(SUMMARY_HEADER, summaryLines(summary));
}

// ---------------------------------------------------------------- XLSX

/** Rows above the header in every sheet: a title line and a filter line. */
export const XLSX_HEADER_ROW = 3;

function sheet(wb: Workbook, name: string, title: string, subtitle: string, header: readonly string[]): Worksheet {
  const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: XLSX_HEADER_ROW }] });
  ws.getCell(1, 1).value = title;
  ws.getCell(1, 1).font = { bold: true, size: 13 };
  ws.getCell(2, 1).value = subtitle;
  const h = ws.getRow(XLSX_HEADER_ROW);
  h.values = [...header];
  h.font = { bold: true };
  h.alignment = { wrapText: true, vertical: 'top' };
  header.forEach((_, i) => (ws.getColumn(i + 1).width = i === 0 ? 28 : 16));
  return ws;
}

async function buffer(wb: Workbook): Promise<Buffer> {
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const filterText = (filters: Record<string, string>) =>
  Object.keys(filters).length ? Object.entries(filters).map(([k, v]) => `${k}=${v}`).join(', ') : 'không / none';

/** Sheet names allow 31 characters: the window compacted, and the grouping. */
export const summarySheetName = (m: SummaryMeta) => `${m.from.replace(/-/g, '')}-${m.to.replace(/-/g, '')} ${m.groupBy}`;

/**
 * The summary as a workbook of one sheet: a title line with the window and
 * grouping, a filter line, the header, a row per group, the totals in bold.
 * Counts are numbers, rates numbers formatted as percentages.
 */
export async function summaryXlsx(summary: Summary, meta: SummaryMeta): Promise<Buffer> {
  const wb = new Workbook();
  wb.creator = 'postal-dossiers';
  const ws = sheet(
    wb,
    summarySheetName(meta),
    `Tuân thủ thời hạn / Deadline compliance: ${meta.from} – ${meta.to}, theo / by ${meta.groupBy}`,
    `Theo hạn gốc / By original due · Lọc / Filters: ${filterText(meta.filters)}`,
    SUMMARY_HEADER,
  );
  const lines = summaryLines(summary);
  lines.forEach((cells, i) => {
    const row = ws.getRow(XLSX_HEADER_ROW + 1 + i);
    cells.forEach((v, c) => {
      if (v === null) return;
      const cell = row.getCell(c + 1);
      cell.value = v;
      if (typeof v === 'number') cell.numFmt = SUMMARY_RATE_COLUMNS.has(c) ? '0.0%' : '0';
    });
    if (i === lines.length - 1) row.font = { bold: true };
  });
  return buffer(wb);
}

// ---------------------------------------------------------------- overdue and at-risk lists

/** A deadline as the overdue and at-risk lists give it. */
export interface DeadlineItem {
  dossierCode: string;
  stage: ListedDeadline['stage'];
  owner: ListedDeadline['owner'];
  agencyId: string;
  procedureCode: string;
  dueAt: string;
  revisedDueAt: string | null;
  startedAt: string;
  state: ListedDeadline['state'];
  links: { dossier: string };
}

export function deadlineItem(d: ListedDeadline): DeadlineItem {
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

export const DEADLINE_LIST_HEADER = [
  'Mã hồ sơ / Dossier code',
  'Giai đoạn / Stage',
  'Bên chịu trách nhiệm / Owner',
  'Cơ quan / Agency',
  'Thủ tục / Procedure',
  'Bắt đầu (UTC+7) / Started at (UTC+7)',
  'Hạn (UTC+7) / Due at (UTC+7)',
  'Hạn hẹn lại (UTC+7) / Revised due at (UTC+7)',
  'Trạng thái / State',
  'Liên kết / Link',
] as const;
/** Columns holding an instant: ISO 8601 in CSV, a date-time in the spreadsheet. */
const LIST_INSTANT_COLUMNS = new Set([5, 6, 7]);

const itemCells = (i: DeadlineItem): Cell[] => [i.dossierCode, i.stage, i.owner, i.agencyId, i.procedureCode, i.startedAt, i.dueAt, i.revisedDueAt, i.state, i.links.dossier];

export function deadlineListCsv(items: DeadlineItem[]): string {
  return csv(DEADLINE_LIST_HEADER, items.map(itemCells));
}

const SEVEN_HOURS = 7 * 3600_000;

/**
 * Spreadsheets have no time zones: an instant is written as its wall-clock
 * time in Asia/Ho_Chi_Minh (a Date shifted by +7 h, which the file stores as is).
 */
export const localWallClock = (instant: string): Date => new Date(parseInstant(instant) + SEVEN_HOURS);

/** The list as a workbook of one sheet, titled with what it lists. */
export async function deadlineListXlsx(items: DeadlineItem[], meta: { sheetName: string; title: string; subtitle: string }): Promise<Buffer> {
  const wb = new Workbook();
  wb.creator = 'postal-dossiers';
  const ws = sheet(wb, meta.sheetName, meta.title, meta.subtitle, DEADLINE_LIST_HEADER);
  items.forEach((item, i) => {
    const row = ws.getRow(XLSX_HEADER_ROW + 1 + i);
    itemCells(item).forEach((v, c) => {
      if (v === null) return;
      const cell = row.getCell(c + 1);
      if (LIST_INSTANT_COLUMNS.has(c)) {
        cell.value = localWallClock(String(v));
        cell.numFmt = 'yyyy-mm-dd hh:mm:ss';
      } else cell.value = v;
    });
  });
  [5, 6, 7].forEach((c) => (ws.getColumn(c + 1).width = 20));
  return buffer(wb);
}
