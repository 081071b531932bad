/** Registration: fees quoted, routes classed, the first deadline opened. */
import { formatInstant, parseInstant } from '../calendar';
import type { DossierState } from '../dossier';
import { quoteFees, redeliveryCharge } from '../fees';
import { routeClass } from '../routes';
import { ELECTRONIC_HANDOFF_WORKING_DAYS, PICKUP_WORKING_DAYS, openDeadline } from './deadlines';
import { notify } from './effects';
import { sum } from './money';
import type { Context, Effect, Outcome, Registration } from './types';

/** The state right after submission, with its first effects. */
export function register(reg: Registration, ctx: Context): Outcome {
  const { submission: s, procedure, agency, tariff, settings } = reg;
  // Rules 2: districts compare with their unit type ("Huyện Kỳ Anh" is not "Thị xã Kỳ Anh").
  const typed = settings.rules === 2;
  const pickupRoute = s.services.collect && s.pickupAddress ? routeClass(s.pickupAddress, agency, settings.classOneProvinces, typed) : null;
  const deliveryRoute = !s.services.deliver
    ? null
    : s.delivery?.method === 'home'
      ? routeClass(agency, s.delivery.address, settings.classOneProvinces, typed)
      : 'same_district';
  const items = quoteFees({
    procedure,
    tariff,
    services: s.services,
    deliveryMethod: s.delivery?.method,
    pickupRoute: pickupRoute ?? undefined,
    deliveryRoute: deliveryRoute ?? undefined,
  });
  const now = formatInstant(ctx.now);
  const submittedAt = formatInstant(parseInstant(s.submittedAt));
  let state: DossierState = {
    version: 1,
    code: s.code,
    procedureCode: s.procedureCode,
    procedure: { name: procedure.name, processingDays: procedure.processingDays },
    agencyId: s.agencyId,
    agency: { name: agency.name, province: agency.province, district: agency.district },
    applicant: s.applicant,
    services: s.services,
    pickupAddress: s.pickupAddress ?? null,
    delivery: s.delivery ?? null,
    payment: s.payment,
    submittedAt,
    routes: { pickup: pickupRoute, delivery: deliveryRoute },
    settings,
    status: 'submitted',
    outcome: null,
    resultRef: null,
    rejectionReason: null,
    receiptNo: null,
    deadlines: [],
    fees: {
      items,
      payments: [],
      redeliveryCharge: s.delivery?.method === 'home' && deliveryRoute ? redeliveryCharge(tariff, deliveryRoute) : null,
    },
    attempts: [],
    pickupFailures: [],
    timeline: [{ type: 'dossier.submitted', occurredAt: submittedAt, recordedAt: now, by: { role: 'portal', id: 'portal' } }],
    apology: null,
    supplementRequests: [],
    job: null,
    courierIds: [],
    pickupRedispatchAt: null,
    invitations: { sentAt: [], nextAt: null, returnAt: null },
    handedOff: false,
    lastEventAt: submittedAt,
    updatedAt: now,
  };
  const effects: Effect[] = [];
  const total = sum(items.map((i) => i.amountVnd));
  if (s.payment.method === 'prepaid' && total > 0) {
    effects.push({ kind: 'capture_payment', key: `${s.code}:capture`, amountVnd: total, reference: s.payment.reference });
  }
  if (s.services.collect) {
    state = openDeadline(state, 'pickup', 'post', submittedAt, PICKUP_WORKING_DAYS, ctx);
    effects.push({ kind: 'dispatch_courier', purpose: 'pickup', attempt: 1, address: s.pickupAddress ?? null });
  } else {
    // Electronic handoff: due the same working day (the next one after 15:00).
    state = openDeadline(state, 'handoff', 'post', submittedAt, ELECTRONIC_HANDOFF_WORKING_DAYS, ctx);
    effects.push({ kind: 'hand_off', mode: 'electronic' });
  }
  effects.push(notify(state, 'citizen', 'dossier.submitted'));
  return { state, effects };
}
