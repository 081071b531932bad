/**
 * The compliance counts' text codec: every line and key the stored documents
 * hold (store/compliance-counts/tables.ts) is written and read here, field by
 * named field. A line is fields joined by tabs; a free-text field (a district)
 * carries tabs, newlines and backslashes escaped.
 */
import type { DeadlineState } from '../../domain/dossier';
import type { DeadlineDoc } from '../documents';
import type { Decision766Outcome } from '../tally';

const escapeField = (v: string): string => v.replace(/[\\\t\n]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\\\'));
const unescapeField = (v: string): string => (v.includes('\\') ? v.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c)) : v);
const joinFields = (fields: readonly string[]): string => fields.map(escapeField).join('\t');
const splitFields = (line: string): string[] => line.split('\t').map(unescapeField);

const ms36 = (d: Date | null | undefined): string => (d ? d.getTime().toString(36) : '');
const fromMs36 = (s: string): Date | null => (s ? new Date(parseInt(s, 36)) : null);

/** The states in the order a table row counts them. */
export const STATES: readonly DeadlineState[] = ['met_on_time', 'met_late', 'open', 'overdue'];
/** A row's counts, indexed as `STATES`. */
export type StateCounts = number[];

// ------------------------------------------------------------------ the key

/** The dimensions a deadline is counted under: what a summary groups or filters on, and Decision 766's outcome. */
export interface CountsKey {
  agencyId: string;
  procedureCode: string;
  stage: DeadlineDoc['stage'];
  owner: DeadlineDoc['owner'];
  district: string;
  outcome: Decision766Outcome;
}
const KEY_PARTS = ['agencyId', 'procedureCode', 'stage', 'owner', 'district', 'outcome'] as const satisfies readonly (keyof CountsKey)[];
/** Fields of an encoded key. */
export const KEY_WIDTH = KEY_PARTS.length;

/** The key as stored (change records, member lines, table rows): equal keys encode to equal strings. */
export function encodeKey(k: CountsKey): string {
  return joinFields(KEY_PARTS.map((p) => k[p]));
}

export function decodeKey(key: string): CountsKey {
  return keyOfFields(splitFields(key));
}

/** A key from its fields in stored order (unescaped), as a table row or a line holds them. */
export function keyOfFields(f: readonly string[]): CountsKey {
  return { agencyId: f[0]!, procedureCode: f[1]!, stage: f[2] as CountsKey['stage'], owner: f[3] as CountsKey['owner'], district: f[4]!, outcome: f[5] as Decision766Outcome };
}

/** The key of a row of a month's day × stage × owner table. */
export interface ByDayKey {
  day: string;
  stage: CountsKey['stage'];
  owner: CountsKey['owner'];
  outcome: Decision766Outcome;
}
export const BY_DAY_WIDTH = 4;

export function encodeByDayKey(k: ByDayKey): string {
  return joinFields([k.day, k.stage, k.owner, k.outcome]);
}

export function byDayKeyOfFields(f: readonly string[]): ByDayKey {
  return { day: f[0]!, stage: f[1] as ByDayKey['stage'], owner: f[2] as ByDayKey['owner'], outcome: f[3] as Decision766Outcome };
}

// ------------------------------------------------------------ list fields

/** What the deadline lists show beyond the key. */
export interface ListFields {
  dossierCode: string;
  dueAt: Date;
  revisedDueAt: Date | null;
  startedAt: Date;
}

/** Dossier code, then due, revised due and start as epoch ms in base 36. */
export function encodeListFields(d: ListFields): string {
  return [escapeField(d.dossierCode), ms36(d.dueAt), ms36(d.revisedDueAt), ms36(d.startedAt)].join('\t');
}

function listFieldsOf(f: readonly string[]): ListFields {
  return { dossierCode: f[0]!, dueAt: fromMs36(f[1]!)!, revisedDueAt: fromMs36(f[2]!), startedAt: fromMs36(f[3]!)! };
}

// ------------------------------------------------------------------ lines

/** The aggregator's view of one deadline: what its latest applied change said. */
export interface Member {
  v: number;
  day: string;
  /** `encodeKey` of its dimensions. */
  key: string;
  state: DeadlineState;
  /** `encodeListFields` of its list fields. */
  item: string;
}

/** A members table line: id, version, the key's fields, state, the list fields. */
export function encodeMemberLine(id: string, m: Member): string {
  return `${escapeField(id)}\t${m.v}\t${m.key}\t${m.state}\t${m.item}`;
}

export function decodeMemberLine(line: string, day: string): { id: string; member: Member } {
  const f = line.split('\t');
  const keyEnd = 2 + KEY_WIDTH;
  return {
    id: unescapeField(f[0]!),
    member: { v: Number(f[1]), day, key: f.slice(2, keyEnd).join('\t'), state: f[keyEnd] as DeadlineState, item: f.slice(keyEnd + 1).join('\t') },
  };
}

/** What the overdue and at-risk lists show of a deadline. */
export type ListedDeadline = Pick<DeadlineDoc, '_id' | 'dossierCode' | 'stage' | 'owner' | 'agencyId' | 'procedureCode' | 'startedAt' | 'dueAt' | 'revisedDueAt' | 'state'>;

/** A list line: id, agency, procedure, stage, owner, the list fields. */
export function encodeListLine(id: string, m: Member): string {
  const k = decodeKey(m.key);
  return `${joinFields([id, k.agencyId, k.procedureCode, k.stage, k.owner])}\t${m.item}`;
}

export function decodeListLine(line: string, state: DeadlineState): ListedDeadline {
  const f = splitFields(line);
  const [id, agencyId, procedureCode, stage, owner] = f as [string, string, string, ListedDeadline['stage'], ListedDeadline['owner']];
  return { _id: id, agencyId, procedureCode, stage, owner, ...listFieldsOf(f.slice(5)), state };
}

// ----------------------------------------------------------------- tables

/** Rows (an encoded key → its counts) as a stored table: the dictionary and lines of codes then counts. */
export function encodeTable(rows: Map<string, StateCounts>): { dict: string; t: string } {
  const codes = new Map<string, number>();
  const dict: string[] = [];
  const code = (v: string) => {
    let c = codes.get(v);
    if (c === undefined) codes.set(v, (c = dict.push(v) - 1));
    return c;
  };
  const lines: string[] = [];
  // The key's fields stay escaped in the dictionary, which is tab-separated too.
  for (const [key, n] of rows) lines.push(`${key.split('\t').map(code).join(' ')} ${n.join(' ')}`);
  return { dict: dict.join('\t'), t: lines.join('\n') };
}

/** A stored table's rows: the key's fields (unescaped) and the counts. */
export function* decodeTable(table: { dict: string; t: string } | null, width: number): Generator<{ fields: string[]; n: StateCounts }> {
  if (!table?.t) return;
  const dict = splitFields(table.dict);
  for (const line of table.t.split('\n')) {
    const f = line.split(' ');
    yield { fields: f.slice(0, width).map((c) => dict[Number(c)]!), n: f.slice(width).map(Number) };
  }
}

/** Counts one more deadline in `state` on the row of `key`. */
export function bump(rows: Map<string, StateCounts>, key: string, state: DeadlineState): void {
  let n = rows.get(key);
  if (!n) rows.set(key, (n = [0, 0, 0, 0]));
  n[STATES.indexOf(state)]!++;
}
