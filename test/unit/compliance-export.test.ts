import { Workbook, type Worksheet } from 'exceljs';
import {
  deadlineListCsv,
  deadlineListXlsx,
  localWallClock,
  summaryCsv,
  summarySheetName,
  summaryXlsx,
  XLSX_HEADER_ROW,
  type DeadlineItem,
} from '../../api/compliance-export';
import type { Summary } from '../../store/compliance';
import { EXPECTED_LIST_HEADER, EXPECTED_SUMMARY_HEADER } from '../support/compliance-figures';


// A post-only group (index not applicable), a group with the index, text that needs quoting or would run as a formula.
const summary: Summary = {
  rows: [
    { key: '=HYPERLINK("x")', total: 1, metOnTime: 0, metLate: 0, open: 1, overdue: 0, onTimeRate: null, decision766: null },
    {
      key: 'Hạ Long, "Bãi Cháy"',
      total: 4,
      metOnTime: 2,
      metLate: 1,
      open: 0,
      overdue: 1,
      onTimeRate: 0.5,
      decision766: { resolved: 3, onTime: 1, late: 2, onTimeRate: 1 / 3, unjudged: 1 },
    },
  ],
  totals: { total: 5, metOnTime: 2, metLate: 1, open: 1, overdue: 1, onTimeRate: 0.5, decision766: { resolved: 3, onTime: 1, late: 2, onTimeRate: 1 / 3, unjudged: 1 } },
};
const meta = { from: '2026-03-01', to: '2026-03-31', groupBy: 'district', filters: { stage: 'processing' } };

async function load(buf: Buffer): Promise<Worksheet> {
  const wb = new Workbook();
  // exceljs types its input as an ArrayBuffer.
  await wb.xlsx.load(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
  expect(wb.worksheets).toHaveLength(1);
  return wb.worksheets[0]!;
}

/** A row's values from column 1 on (exceljs's row.values starts at index 1); an empty cell is null. */
function rowValues(ws: Worksheet, n: number, width: number): unknown[] {
  return Array.from({ length: width }, (_, i) => ws.getRow(n).getCell(i + 1).value ?? null);
}

describe('summaryCsv', () => {
  test('a bilingual header with the index columns, quoting, formulas neutralised, nulls empty, totals last', () => {
    expect(summaryCsv(summary).split('\r\n')).toEqual([
      `\uFEFF${EXPECTED_SUMMARY_HEADER.join(',')}`,
      `"'=HYPERLINK(""x"")",1,0,0,1,0,,,,,,`,
      `"Hạ Long, ""Bãi Cháy""",4,2,1,0,1,0.5,3,1,2,${1 / 3},1`,
      `Tổng cộng / Totals,5,2,1,1,1,0.5,3,1,2,${1 / 3},1`,
      '',
    ]);
  });
});

describe('summaryXlsx', () => {
  test('a title line with the window and grouping, the filters, the header, then numbers as numbers and rates as percentages', async () => {
    const ws = await load(await summaryXlsx(summary, meta));
    expect(ws.name).toBe('20260301-20260331 district');
    expect(ws.getCell(1, 1).value).toBe('Tuân thủ thời hạn / Deadline compliance: 2026-03-01 – 2026-03-31, theo / by district');
    expect(ws.getCell(2, 1).value).toBe('Theo hạn gốc / By original due · Lọc / Filters: stage=processing');
    expect(rowValues(ws, XLSX_HEADER_ROW, EXPECTED_SUMMARY_HEADER.length)).toEqual(EXPECTED_SUMMARY_HEADER);
    // Text is stored as text: no formula to neutralise.
    expect(rowValues(ws, 4, EXPECTED_SUMMARY_HEADER.length)).toEqual(['=HYPERLINK("x")', 1, 0, 0, 1, 0, null, null, null, null, null, null]);
    expect(rowValues(ws, 5, EXPECTED_SUMMARY_HEADER.length)).toEqual(['Hạ Long, "Bãi Cháy"', 4, 2, 1, 0, 1, 0.5, 3, 1, 2, 1 / 3, 1]);
    expect(rowValues(ws, 6, EXPECTED_SUMMARY_HEADER.length)).toEqual(['Tổng cộng / Totals', 5, 2, 1, 1, 1, 0.5, 3, 1, 2, 1 / 3, 1]);
    expect(ws.rowCount).toBe(6);
    expect(ws.getCell(5, 7).numFmt).toBe('0.0%');
    expect(ws.getCell(5, 11).numFmt).toBe('0.0%');
    expect(ws.getCell(5, 2).numFmt).toBe('0');
    expect(ws.getCell(6, 1).font?.bold).toBe(true);
  });

  test('no filters, no rows: the totals line alone', async () => {
    const empty: Summary = { rows: [], totals: { total: 0, metOnTime: 0, metLate: 0, open: 0, overdue: 0, onTimeRate: null, decision766: null } };
    const ws = await load(await summaryXlsx(empty, { ...meta, groupBy: 'procedure', filters: {} }));
    expect(ws.getCell(2, 1).value).toBe('Theo hạn gốc / By original due · Lọc / Filters: không / none');
    expect(rowValues(ws, 4, EXPECTED_SUMMARY_HEADER.length)).toEqual(['Tổng cộng / Totals', 0, 0, 0, 0, 0, null, null, null, null, null, null]);
    expect(ws.rowCount).toBe(4);
  });

  test('sheet names stay within the 31 characters a workbook allows, for every grouping', () => {
    for (const groupBy of ['agency', 'procedure', 'stage', 'owner', 'district', 'day', 'month']) {
      expect(summarySheetName({ ...meta, groupBy }).length).toBeLessThanOrEqual(31);
    }
  });
});

const items: DeadlineItem[] = [
  {
    dossierCode: '-H40.22-1',
    stage: 'processing',
    owner: 'agency',
    agencyId: 'HL-UBND',
    procedureCode: '2.000720',
    dueAt: '2026-01-07T00:00:00+07:00',
    revisedDueAt: '2026-01-10T00:00:00+07:00',
    startedAt: '2026-01-02T11:00:00.250+07:00',
    state: 'overdue',
    links: { dossier: '/v1/dossiers/-H40.22-1' },
  },
  {
    dossierCode: 'CA-C',
    stage: 'delivery',
    owner: 'post',
    agencyId: 'QN-STP',
    procedureCode: '2.000488',
    dueAt: '2026-01-09T12:00:00+07:00',
    revisedDueAt: null,
    startedAt: '2026-01-05T10:00:00+07:00',
    state: 'overdue',
    links: { dossier: '/v1/dossiers/CA-C' },
  },
];

describe('deadline lists', () => {
  test('CSV: instants as in the JSON, a missing revised due empty', () => {
    expect(deadlineListCsv(items).split('\r\n')).toEqual([
      `\uFEFF${EXPECTED_LIST_HEADER.join(',')}`,
      `'-H40.22-1,processing,agency,HL-UBND,2.000720,2026-01-02T11:00:00.250+07:00,2026-01-07T00:00:00+07:00,2026-01-10T00:00:00+07:00,overdue,/v1/dossiers/-H40.22-1`,
      'CA-C,delivery,post,QN-STP,2.000488,2026-01-05T10:00:00+07:00,2026-01-09T12:00:00+07:00,,overdue,/v1/dossiers/CA-C',
      '',
    ]);
  });

  test('XLSX: instants as Vietnamese wall-clock date-times, to the millisecond', async () => {
    const ws = await load(await deadlineListXlsx(items, { sheetName: 'Quá hạn - Overdue', title: 'Thời hạn đã quá / Overdue deadlines', subtitle: 's' }));
    expect(ws.name).toBe('Quá hạn - Overdue');
    expect(ws.getCell(1, 1).value).toBe('Thời hạn đã quá / Overdue deadlines');
    expect(rowValues(ws, XLSX_HEADER_ROW, EXPECTED_LIST_HEADER.length)).toEqual(EXPECTED_LIST_HEADER);
    const first = rowValues(ws, 4, EXPECTED_LIST_HEADER.length);
    expect(first).toEqual([
      '-H40.22-1',
      'processing',
      'agency',
      'HL-UBND',
      '2.000720',
      new Date('2026-01-02T11:00:00.250Z'),
      new Date('2026-01-07T00:00:00.000Z'),
      new Date('2026-01-10T00:00:00.000Z'),
      'overdue',
      '/v1/dossiers/-H40.22-1',
    ]);
    expect(first[6]).toEqual(localWallClock(items[0]!.dueAt));
    expect(rowValues(ws, 5, EXPECTED_LIST_HEADER.length)[7]).toBeNull();
    expect(ws.getCell(4, 7).numFmt).toBe('yyyy-mm-dd hh:mm:ss');
    expect(ws.rowCount).toBe(5);
  });
});
