/** Request schemas (zod), the one source of truth for validation at the edge. */
import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);
export const dossierCode = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1-64 of A-Z, a-z, 0-9, dot, underscore, hyphen');
const instant = z.iso.datetime({ offset: true, message: 'must be ISO 8601 with an offset, e.g. 2026-01-05T09:15:00+07:00' });
const vnd = z.number().int().min(0).max(1_000_000_000_000);

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
