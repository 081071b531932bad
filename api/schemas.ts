/** Request schemas (zod), the one source of truth for validation at the edge. */
import { z } from 'zod';

import { isLocalDate } from '../domain/calendar';

export const text = (max: number) => z.string().trim().min(1).max(max);
/** Dossier codes, procedure codes, agency and courier ids. */
export const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const ID_RULE = '1-64 of A-Z, a-z, 0-9, dot, underscore, hyphen';
export const dossierCode = z.string().regex(ID_PATTERN, ID_RULE);
const instant = z.iso.datetime({ offset: true, message: 'must be ISO 8601 with an offset, e.g. 2026-01-05T09:15:00+07:00' });
export const vnd = z.number().int().min(0).max(1_000_000_000_000);
/** A calendar day, `YYYY-MM-DD` (checked as a real date). */
export const localDate = z.string().refine(isLocalDate, 'must be a date, YYYY-MM-DD').meta({ format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
/** An integer query parameter in [min, max], `fallback` when absent. */
export const intParam = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be an integer from ${min} to ${max}`).max(max, `must be an integer from ${min} to ${max}`))
    .optional()
    .transform((v) => v ?? fallback)
    // Documented as the integer it stands for (query values are strings on the wire).
    .meta({ type: 'integer', minimum: min, maximum: max, default: fallback });

export const addressSchema = z.strictObject({
  line: text(200),
  ward: text(100),
  district: text(100),
  province: text(100),
});

export const applicantSchema = z.strictObject({
  fullName: text(200),
  idNumber: z.string().regex(/^(\d{12}|[A-Za-z][0-9A-Za-z]{6,8})$/, 'a 12-digit citizen ID (CCCD) or a passport number'),
  phone: z.string().regex(/^(0|\+84)\d{9}$/, 'a Vietnamese mobile number: 0 or +84 then 9 digits'),
  email: z.email().optional(),
});

export const submissionSchema = z
  .strictObject({
    code: dossierCode,
    procedureCode: text(64),
    agencyId: text(64),
    applicant: applicantSchema,
    services: z.strictObject({ collect: z.boolean(), deliver: z.boolean() }),
    pickupAddress: addressSchema.optional(),
    delivery: z
      .discriminatedUnion('method', [
        z.strictObject({ method: z.literal('home'), address: addressSchema }),
        z.strictObject({ method: z.literal('counter') }),
      ])
      .optional(),
    payment: z.discriminatedUnion('method', [
      z.strictObject({ method: z.literal('prepaid'), reference: text(100) }),
      z.strictObject({ method: z.literal('cash') }),
    ]),
    submittedAt: instant.optional(),
  })
  .superRefine((s, ctx) => {
    if (!s.services.collect && !s.services.deliver) ctx.addIssue({ code: 'custom', path: ['services'], message: 'at least one service must be true' });
    if (s.services.collect && !s.pickupAddress) ctx.addIssue({ code: 'custom', path: ['pickupAddress'], message: 'is required when collect is true' });
    if (!s.services.collect && s.pickupAddress) ctx.addIssue({ code: 'custom', path: ['pickupAddress'], message: 'is only allowed when collect is true' });
    if (s.services.deliver && !s.delivery) ctx.addIssue({ code: 'custom', path: ['delivery'], message: 'is required when deliver is true' });
    if (!s.services.deliver && s.delivery) ctx.addIssue({ code: 'custom', path: ['delivery'], message: 'is only allowed when deliver is true' });
  });

export type SubmissionBody = z.infer<typeof submissionSchema>;

export const recipientSchema = z
  .strictObject({
    fullName: text(200),
    idNumber: applicantSchema.shape.idNumber,
    relationship: z.enum(['self', 'proxy']),
    authorizationRef: text(100).optional(),
  });

const envelope = { eventId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, '1-128 of A-Z, a-z, 0-9, . _ : -').optional(), occurredAt: instant.optional() };

export const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('courier.picked_up'), collectedVnd: vnd.optional(), ...envelope }),
  z.strictObject({ type: z.literal('courier.pickup_failed'), reason: text(500), ...envelope }),
  z.strictObject({ type: z.literal('agency.received'), receiptNo: text(100).optional(), ...envelope }),
  z.strictObject({ type: z.literal('agency.supplement_requested'), reason: text(1000), items: z.array(text(300)).min(1).max(50), ...envelope }),
  z.strictObject({ type: z.literal('citizen.supplement_provided'), note: text(1000).optional(), ...envelope }),
  z.strictObject({ type: z.literal('agency.apologized'), newDueDate: z.iso.date('must be a date, YYYY-MM-DD'), reason: text(1000), ...envelope }),
  z
    .strictObject({
      type: z.literal('agency.completed'),
      outcome: z.enum(['approved', 'rejected']),
      resultRef: text(200).optional(),
      reason: text(1000).optional(),
      ...envelope,
    })
    .refine((e) => e.outcome !== 'rejected' || e.reason, { path: ['reason'], message: 'is required when the outcome is rejected' }),
  z
    .strictObject({
      type: z.literal('courier.delivery_attempted'),
      outcome: z.enum(['delivered', 'failed']),
      recipient: recipientSchema.optional(),
      reason: z.enum(['not_home', 'wrong_address', 'refused', 'other']).optional(),
      note: text(1000).optional(),
      collectedVnd: vnd.optional(),
      ...envelope,
    })
    .superRefine((e, ctx) => {
      if (e.outcome === 'delivered' && !e.recipient) ctx.addIssue({ code: 'custom', path: ['recipient'], message: 'is required when delivered' });
      if (e.outcome === 'failed' && !e.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'is required when the attempt failed' });
    }),
  z.strictObject({ type: z.literal('counter.collected'), recipient: recipientSchema, collectedVnd: vnd.optional(), ...envelope }),
  z.strictObject({ type: z.literal('citizen.redelivery_requested'), note: text(1000).optional(), ...envelope }),
  z.strictObject({ type: z.literal('citizen.withdrawn'), reason: text(1000), ...envelope }),
]);

export type EventBody = z.infer<typeof eventSchema>;

// Reference data, maintained by admins. The id in the body is optional; when present it must equal the path's.
const optionalId = z.string().regex(ID_PATTERN, ID_RULE).optional();

export const procedureSchema = z.strictObject({
  code: optionalId,
  name: text(300),
  processingDays: z.number().int().min(0).max(365),
  fees: z.array(z.strictObject({ name: text(200), amountVnd: vnd })).max(50),
});

export const agencySchema = z.strictObject({
  id: optionalId,
  name: text(300),
  province: text(100),
  district: text(100),
  handoff: z.discriminatedUnion('mode', [
    z.strictObject({ mode: z.literal('webhook'), url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2000) }),
    z.strictObject({ mode: z.literal('manual') }),
  ]),
});

export const courierSchema = z.strictObject({
  id: optionalId,
  name: text(200),
  province: text(100),
  district: text(100),
  wards: z.array(text(100)).max(200),
});

const routeCharges = z.strictObject({ sameDistrict: vnd, sameProvince: vnd, interProvince: vnd });
export const tariffSchema = z.strictObject({ pickup: routeCharges, delivery: routeCharges, redelivery: routeCharges });

/** A calendar year in the path, as four digits (year 0 does not exist). */
export const YEAR_PATTERN = /^(?!0000)\d{4}$/;

export const calendarSchema = z.strictObject({
  year: z.number().int().min(1).max(9999).optional(),
  holidays: z.array(z.string()).max(366),
  workingDays: z.array(z.string()).max(366),
  note: z.string().max(2000).optional(),
});
