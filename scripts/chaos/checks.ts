/**
 * The checks, after each wave and at the end, from the run's own records of
 * what the API acknowledged (see index.ts for the list). The read model lags
 * the workflows by a projection, so it is let settle, within a bound, first.
 */
import type { DossierView } from '../../domain/dossier';
import { scanSummary } from '../../store/compliance';
import { COLLECTIONS } from '../../store/db';
import { findDossier } from '../../store/read-model';
import { dossierViewQuery, dossierWorkflowId } from '../../workflows/messages';
import { call, log, run, secs, sleep, tokens } from './run';
import type { Stack } from './stack';

/** The compliance counts' aggregator (config COMPLIANCE_COUNTS_WORKFLOW_ID's default): a singleton, whatever the number of workers. */
const COUNTS_AGGREGATOR_ID = 'compliance-counts';

async function workflowView(stack: Stack, code: string): Promise<DossierView | null | 'missing'> {
  try {
    return await stack.temporal.workflow.getHandle(dossierWorkflowId(code)).query(dossierViewQuery);
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return 'missing';
    throw err;
  }
}

/** Which fields differ, for a same-version mismatch (issue #13: the cause is not known yet). */
function differingFields(read: DossierView, wf: DossierView): string {
  if (read.version !== wf.version) return '';
  const keys = [...new Set([...Object.keys(read), ...Object.keys(wf)])] as (keyof DossierView)[];
  const fields = keys.filter((k) => JSON.stringify(read[k]) !== JSON.stringify(wf[k]));
  const at = read.timeline.findIndex((t, i) => JSON.stringify(t) !== JSON.stringify(wf.timeline[i]));
  const entry = at >= 0 ? `; timeline[${at}]: read ${JSON.stringify(read.timeline[at])} ≠ workflow ${JSON.stringify(wf.timeline[at])}` : '';
  return `, fields ${fields.join(', ') || '(key order only)'}${entry}`;
}

/** Settles the read model (it lags the workflows by a projection) before comparing, within a bound. */
export async function verify(stack: Stack, after: string): Promise<void> {
  const problems: Record<string, string[]> = {
    'acknowledged submission: workflow, read model, one dossier.submitted': [],
    'acknowledged event: exactly once in the timeline': [],
    'read model equals the workflow view': [],
    'ledger ↔ gateway captures, one to one': [],
    'courier jobs: no duplicate, at most one open per dossier': [],
    'compliance summary equals a count of the deadline records': [],
    'the compliance counts aggregator: one, running': [],
    'no 500 answer': [],
    'a 503 submission left nothing behind': [],
  };
  const codes = [...run.acknowledged];
  const views = new Map<string, DossierView>();
  const settleUntil = Date.now() + 120_000;
  let pending = codes;
  while (pending.length) {
    const still: string[] = [];
    for (const code of pending) {
      const wf = await workflowView(stack, code).catch(() => null);
      const doc = await findDossier(stack.db, code);
      if (wf === 'missing' || wf === null) {
        still.push(code);
        continue;
      }
      views.set(code, wf);
      if (!doc || doc.version !== wf.version || JSON.stringify(doc.view) !== JSON.stringify(wf)) still.push(code);
    }
    if (!still.length || Date.now() > settleUntil) {
      pending = still;
      break;
    }
    pending = still;
    await sleep(2000);
  }
  for (const code of pending) {
    const wf = views.get(code);
    const doc = await findDossier(stack.db, code);
    if (!wf) problems['acknowledged submission: workflow, read model, one dossier.submitted']!.push(`${code}: no workflow`);
    else if (!doc) problems['acknowledged submission: workflow, read model, one dossier.submitted']!.push(`${code}: not in the read model`);
    else problems['read model equals the workflow view']!.push(`${code}: read v${doc.version} (${doc.status}) ≠ workflow v${wf.version} (${wf.status})${differingFields(doc.view, wf)}`);
  }
  for (const [code, wf] of views) {
    const submitted = wf.timeline.filter((t) => t.type === 'dossier.submitted').length;
    if (submitted !== 1) problems['acknowledged submission: workflow, read model, one dossier.submitted']!.push(`${code}: dossier.submitted ×${submitted}`);
  }
  for (const [eventId, code] of run.ackedEvents) {
    const wf = views.get(code);
    const n = wf?.timeline.filter((t) => t.eventId === eventId).length ?? 0;
    if (n !== 1) problems['acknowledged event: exactly once in the timeline']!.push(`${eventId}: ×${n}`);
  }

  const ledger = await stack.db.collection(COLLECTIONS.ledger).find({ kind: 'capture' }).toArray();
  const captures = stack.gateway.captures;
  for (const entry of ledger) {
    const matching = captures.filter((c) => c.idempotencyKey === String(entry._id));
    if (matching.length !== 1 || matching[0]!.amountVnd !== entry.amountVnd) {
      problems['ledger ↔ gateway captures, one to one']!.push(`ledger ${String(entry._id)}: ${matching.length} captures`);
    }
  }
  const ledgerKeys = new Set(ledger.map((e) => String(e._id)));
  const byKey = new Map<string, number>();
  for (const c of captures) byKey.set(c.idempotencyKey, (byKey.get(c.idempotencyKey) ?? 0) + 1);
  for (const [key, n] of byKey) {
    if (n !== 1) problems['ledger ↔ gateway captures, one to one']!.push(`capture ${key}: ×${n} at the gateway`);
    // A capture whose ledger entry is not written yet is only a fault once the workflows are settled.
    if (!ledgerKeys.has(key)) problems['ledger ↔ gateway captures, one to one']!.push(`capture ${key}: no ledger entry`);
  }

  const jobs = await stack.db.collection(COLLECTIONS.courierJobs).find({}).toArray();
  const perDossier = new Map<string, { purpose: string; attempt: number; status: string }[]>();
  for (const j of jobs) {
    const list = perDossier.get(String(j.dossierCode)) ?? [];
    list.push({ purpose: String(j.purpose), attempt: Number(j.attempt), status: String(j.status) });
    perDossier.set(String(j.dossierCode), list);
  }
  for (const [code, list] of perDossier) {
    const keys = list.map((j) => `${j.purpose}:${j.attempt}`);
    if (new Set(keys).size !== keys.length) problems['courier jobs: no duplicate, at most one open per dossier']!.push(`${code}: ${keys.join(', ')}`);
    if (list.filter((j) => j.status === 'open').length > 1) problems['courier jobs: no duplicate, at most one open per dossier']!.push(`${code}: several open jobs`);
  }

  const query = { from: '2026-01-01', to: '2026-12-31', groupBy: 'agency' as const };
  const fromRecords = await scanSummary(stack.db, query);
  let served: { totals?: unknown } | null = null;
  for (let i = 0; i < 30; i++) {
    const res = await call('GET', 'compliance summary', `/v1/compliance/summary?from=${query.from}&to=${query.to}&groupBy=agency`, tokens.manager);
    if (res.status === 200 && JSON.stringify(res.body?.totals) === JSON.stringify(fromRecords.totals)) {
      served = res.body;
      break;
    }
    served = res.body;
    await sleep(1000); // the counts trail the records by a pass
  }
  if (JSON.stringify(served?.totals) !== JSON.stringify(fromRecords.totals)) {
    problems['compliance summary equals a count of the deadline records']!.push(`served ${JSON.stringify(served?.totals)} ≠ counted ${JSON.stringify(fromRecords.totals)}`);
  }

  // Started by every worker with USE_EXISTING: Temporal keeps one execution per id, which must be running.
  const aggregator = await stack.temporal.workflow
    .getHandle(COUNTS_AGGREGATOR_ID)
    .describe()
    .then((d) => d.status.name, (err: Error) => `not found (${err.message})`);
  if (aggregator !== 'RUNNING') problems['the compliance counts aggregator: one, running']!.push(`${COUNTS_AGGREGATOR_ID}: ${aggregator}`);

  for (const a of run.answers) if (a.status >= 500 && a.status !== 503) problems['no 500 answer']!.push(`${a.method} ${a.what}: ${a.status} at +${secs(a.at - run.t0)} s`);
  for (const code of run.refused) {
    const wf = await workflowView(stack, code).catch(() => 'unknown' as const);
    if (wf !== 'missing') problems['a 503 submission left nothing behind']!.push(`${code}: a workflow exists`);
    if (captures.some((c) => c.idempotencyKey.startsWith(`${code}:`))) problems['a 503 submission left nothing behind']!.push(`${code}: a capture exists`);
  }

  run.checkResults.push({ after, results: problems });
  const failed = Object.entries(problems).filter(([, p]) => p.length);
  log(`checks after ${after}: ${failed.length ? failed.map(([k, p]) => `${k}: ${p.length} (${p.slice(0, 3).join('; ')})`).join(' | ') : 'all passed'}`);
}

