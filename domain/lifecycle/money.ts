/** Fees, payments, cash and refunds. */
import type { DossierState, FeesView, Payment } from '../dossier';
import type { FeeItem } from '../fees';
import type { Instant } from '../types';
import { refuse } from './refusals';
import type { Decision, Effect, Outcome } from './types';

export function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function feesView(state: DossierState): FeesView {
  const totalVnd = sum(state.fees.items.map((i) => i.amountVnd));
  const paidVnd = paid(state);
  const closedUnpaid = state.status === 'withdrawn' || state.status === 'cancelled';
  return {
    items: state.fees.items.map(({ name, amountVnd, payee }) => ({ name, amountVnd, payee })),
    totalVnd,
    paidVnd,
    dueVnd: closedUnpaid ? 0 : Math.max(0, totalVnd - paidVnd),
  };
}

function paid(state: DossierState): number {
  return sum(state.fees.payments.map((p) => (p.kind === 'refund' ? -p.amountVnd : p.amountVnd)));
}

function due(state: DossierState): number {
  return Math.max(0, sum(state.fees.items.map((i) => i.amountVnd)) - paid(state));
}

/** What the citizen owes for services already rendered, kept on withdrawal. */
function owed(state: DossierState): number {
  const received = state.deadlines.some((d) => d.stage === 'processing');
  const pickedUp = state.timeline.some((t) => t.type === 'courier.picked_up');
  return sum(
    state.fees.items
      .filter((i: FeeItem) => (i.kind === 'procedure' && received) || (i.kind === 'pickup' && pickedUp))
      .map((i) => i.amountVnd),
  );
}

/** Gives back what was paid and is not owed: through the gateway up to what it captured, the rest in cash. */
export function refundUnowed(state: DossierState): Outcome {
  const refundable = paid(state) - owed(state);
  if (refundable <= 0) return { state, effects: [] };
  const captured = sum(state.fees.payments.filter((p) => p.kind === 'capture').map((p) => p.amountVnd));
  const refundedByGateway = sum(state.fees.payments.filter((p) => p.kind === 'refund' && p.by === 'gateway').map((p) => p.amountVnd));
  const viaGateway = Math.min(refundable, captured - refundedByGateway);
  const inCash = refundable - viaGateway;
  const payments: Payment[] = [];
  const effects: Effect[] = [];
  const at = state.lastEventAt;
  const n = state.fees.payments.filter((p) => p.kind === 'refund').length;
  if (viaGateway > 0) {
    const key = `${state.code}:refund:${n + 1}`;
    const reference = state.fees.payments.find((p) => p.kind === 'capture')?.reference;
    payments.push({ key, kind: 'refund', amountVnd: viaGateway, at, by: 'gateway', ...(reference ? { reference } : {}) });
    effects.push({ kind: 'refund', key, amountVnd: viaGateway, method: 'gateway', ...(reference ? { reference } : {}) });
  }
  if (inCash > 0) {
    const key = `${state.code}:refund:${n + payments.length + 1}`;
    payments.push({ key, kind: 'refund', amountVnd: inCash, at, by: 'cash' });
    effects.push({ kind: 'refund', key, amountVnd: inCash, method: 'cash' });
  }
  return { state: { ...state, fees: { ...state.fees, payments: [...state.fees.payments, ...payments] } }, effects };
}

/** Cash handed over by the citizen must settle exactly what is still owed. */
export function takeCash(
  state: DossierState,
  collectedVnd: number | undefined,
  at: Instant,
  by: string,
  where: string,
  mustSettle = false,
): Decision {
  const owing = due(state);
  const amount = collectedVnd ?? 0;
  if (amount === 0 && (!mustSettle || owing === 0)) return { ok: true, state, effects: [] };
  if (amount !== owing) {
    return refuse(422, 'cash-mismatch', 'Wrong cash amount', `${owing} VND is owed ${where}; collectedVnd was ${amount}`, [
      { path: 'collectedVnd', message: `must equal the amount owed (${owing} VND)` },
    ]);
  }
  const key = `${state.code}:cash:${state.version + 1}`;
  return {
    ok: true,
    state: { ...state, fees: { ...state.fees, payments: [...state.fees.payments, { key, kind: 'cash', amountVnd: amount, at, by }] } },
    effects: [{ kind: 'record_cash', key, amountVnd: amount, by }],
  };
}
