/** Expected compliance figures and seeded deadline records, shared by the compliance tests. */
import { dueDay, parseInstant } from '../../domain/calendar';
import type { Decision766Counts } from '../../store/compliance';
import type { DeadlineDoc } from '../../store/read-model';

/** The legal figures of a summary row, for `toMatchObject`. */
export const legalCounts = (total: number, metOnTime: number, metLate: number, open: number, overdue: number, onTimeRate: number | null) => ({
  total,
  metOnTime,
  metLate,
  open,
  overdue,
  onTimeRate,
});

/** A whole summary row's figures: the legal ones and Decision 766's (null: no processing deadline). */
export const counts = (
  total: number,
  metOnTime: number,
  metLate: number,
  open: number,
  overdue: number,
  onTimeRate: number | null,
  decision766: Decision766Counts | null = null,
) => ({ ...legalCounts(total, metOnTime, metLate, open, overdue, onTimeRate), decision766 });

export const idx = (resolved: number, onTime: number, late: number, onTimeRate: number | null, unjudged = 0): Decision766Counts => ({
  resolved,
  onTime,
  late,
  onTimeRate,
  unjudged,
});

/** Processing deadlines none of which is resolved. */
export const NONE_RESOLVED = idx(0, 0, 0, null);

/** The exports' header, spelled out here so a change to it is a visible change to the contract. */
export const EXPECTED_SUMMARY_HEADER = [
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
];
export const EXPECTED_TOTALS_LABEL = 'Tổng cộng / Totals';

/** The overdue and at-risk exports' header, spelled out for the same reason. */
export const EXPECTED_LIST_HEADER = [
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
];

/** A DeadlineDoc shaped as `writeProjection` writes it: an open processing deadline at HL-TNMT unless overridden. */
export function deadlineDoc(code: string, over: Omit<Partial<DeadlineDoc>, 'dueAt' | 'startedAt'> & { dueAt: string; startedAt?: string }): DeadlineDoc {
  const { dueAt, startedAt, ...rest } = over;
  const day = dueDay(dueAt);
  const stage = rest.stage ?? 'processing';
  return {
    _id: `${code}:${stage}`,
    dossierCode: code,
    version: 3,
    stage: 'processing',
    owner: 'agency',
    agencyId: 'HL-TNMT',
    procedureCode: '1.001234',
    district: 'Hạ Long',
    startedAt: new Date(parseInstant(startedAt ?? '2026-01-05T10:00:00+07:00')),
    dueAt: new Date(parseInstant(dueAt)),
    dueDay: day,
    dueMonth: day.slice(0, 7),
    revisedDueAt: null,
    completedAt: null,
    state: 'open',
    atRisk: false,
    supplementWorkingDays: 0,
    multipleSupplementRequests: false,
    // Without a supplement the index due is the due; the post's stages have none.
    indexDueAt: stage === 'processing' ? new Date(parseInstant(dueAt)) : null,
    dossierStatus: 'processing',
    ...rest,
  };
}
