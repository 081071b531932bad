/** The compliance figures' shapes: what a summary row, a snapshot and the API report (DESIGN §2). */

/**
 * Decision 766's service index over the processing deadlines of a group
 * (DESIGN §2): resolved = processing ended (completed, or withdrawn/cancelled:
 * "stopped"); on time = ended on or before the index due (supplement time
 * subtracted) with at most one supplement request.
 */
export interface Decision766Counts {
  resolved: number;
  onTime: number;
  late: number;
  /** onTime / resolved; null when nothing was resolved. */
  onTimeRate: number | null;
  /** Resolved, but the index due is not known (projected before the field existed, with a supplement); not in `resolved`. */
  unjudged: number;
}

export interface Counts {
  total: number;
  metOnTime: number;
  metLate: number;
  open: number;
  overdue: number;
  /** metOnTime / (metOnTime + metLate + overdue); null when that is 0. */
  onTimeRate: number | null;
  /** Null when the group has no processing deadline: the index judges the agency's processing only. */
  decision766: Decision766Counts | null;
}

export interface SummaryRow extends Counts {
  key: string;
}

export interface Summary {
  rows: SummaryRow[];
  totals: Counts;
}
