import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Router, type Request } from 'express';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { z } from 'zod';
import { calendarYearProblems } from '../../domain/calendar';
import { TERMINAL_STATUSES } from '../../domain/dossier';
import type { Agency, CalendarYear, Courier, Procedure, Tariff } from '../../domain/types';
import { COLLECTIONS } from '../../store/db';
import type { DossierDoc } from '../../store/read-model';
import type { ReferenceData } from '../../store/reference-data';
import { calendarChangedSignal, dossierWorkflowId } from '../../workflows/messages';
import { requireRole } from '../auth';
import { Problem } from '../problem';

export interface ReferenceDataRoutesDeps {
  temporal: Client;
  db: Db;
  refs: ReferenceData;
  log: Logger;
}

const text = (max: number) => z.string().trim().min(1).max(max);
const vnd = z.number().int().min(0).max(1_000_000_000_000);
/** Path identifiers: procedure codes, agency and courier ids. */
const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export const procedureSchema = z.strictObject({
  code: z.string().regex(ID_RE, '1-64 of A-Z, a-z, 0-9, dot, underscore, hyphen').optional(),
  name: text(300),
  processingDays: z.number().int().min(0).max(365),
  fees: z.array(z.strictObject({ name: text(200), amountVnd: vnd })).max(50),
});

export const agencySchema = z.strictObject({
  id: z.string().regex(ID_RE, '1-64 of A-Z, a-z, 0-9, dot, underscore, hyphen').optional(),
  name: text(300),
  province: text(100),
  district: text(100),
  handoff: z.discriminatedUnion('mode', [
    z.strictObject({ mode: z.literal('webhook'), url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2000) }),
    z.strictObject({ mode: z.literal('manual') }),
  ]),
});

export const courierSchema = z.strictObject({
  id: z.string().regex(ID_RE, '1-64 of A-Z, a-z, 0-9, dot, underscore, hyphen').optional(),
  name: text(200),
  province: text(100),
  district: text(100),
  wards: z.array(text(100)).max(200),
});

const routeCharges = z.strictObject({ sameDistrict: vnd, sameProvince: vnd, interProvince: vnd });
export const tariffSchema = z.strictObject({ pickup: routeCharges, delivery: routeCharges, redelivery: routeCharges });

export const calendarSchema = z.strictObject({
  year: z.number().int().optional(),
  holidays: z.array(z.string()).max(366),
  workingDays: z.array(z.string()).max(366),
  note: z.string().max(2000).optional(),
});

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw Problem.validation(r.error);
  return r.data;
}

function mismatch(field: string, path: string | number, body: string | number): Problem {
  return new Problem(400, 'validation', 'Invalid input', `${field}: must equal the path (${path}), not ${body}`, [
    { path: field, message: `must equal the path (${path})` },
  ]);
}

/** The path id: on a read an impossible id is simply not there (404); on a write it is invalid input (400). */
function pathId(req: Request, what: string, write = false): string {
  const id = String(req.params.id ?? '');
  if (ID_RE.test(id)) return id;
  if (!write) throw Problem.notFound(`No ${what} ${id}`);
  throw new Problem(400, 'validation', 'Invalid input', `id: ${what} ids are 1-64 of A-Z, a-z, 0-9, dot, underscore, hyphen`, [
    { path: 'id', message: '1-64 of A-Z, a-z, 0-9, dot, underscore, hyphen' },
  ]);
}

const READ_ALL = ['portal', 'agency', 'courier', 'clerk', 'manager', 'admin'] as const;

/** Admin-maintained reference data: procedures, agencies, couriers, tariff, working calendar. */
export function referenceDataRoutes(deps: ReferenceDataRoutesDeps): Router {
  const router = Router();
  const { refs } = deps;

  // Procedures.
  router.get('/v1/procedures', requireRole(...READ_ALL), async (_req, res) => {
    res.json({ items: await refs.procedures() });
  });
  router.get('/v1/procedures/:id', requireRole(...READ_ALL), async (req, res) => {
    const id = pathId(req, 'procedure');
    const p = await refs.procedure(id);
    if (!p) throw Problem.notFound(`No procedure ${id}`);
    res.json(p);
  });
  router.put('/v1/procedures/:id', requireRole('admin'), async (req, res) => {
    const id = pathId(req, 'procedure', true);
    const body = parse(procedureSchema, req.body);
    if (body.code !== undefined && body.code !== id) throw mismatch('code', id, body.code);
    const procedure: Procedure = { code: id, name: body.name, processingDays: body.processingDays, fees: body.fees };
    const existed = (await refs.procedure(id)) !== null;
    await refs.putProcedure(procedure);
    res.status(existed ? 200 : 201).json(procedure);
  });

  // Agencies.
  router.get('/v1/agencies', requireRole(...READ_ALL), async (_req, res) => {
    res.json({ items: await refs.agencies() });
  });
  router.get('/v1/agencies/:id', requireRole(...READ_ALL), async (req, res) => {
    const id = pathId(req, 'agency');
    const a = await refs.agency(id);
    if (!a) throw Problem.notFound(`No agency ${id}`);
    res.json(a);
  });
  router.put('/v1/agencies/:id', requireRole('admin'), async (req, res) => {
    const id = pathId(req, 'agency', true);
    const body = parse(agencySchema, req.body);
    if (body.id !== undefined && body.id !== id) throw mismatch('id', id, body.id);
    const agency: Agency = { id, name: body.name, province: body.province, district: body.district, handoff: body.handoff };
    const existed = (await refs.agency(id)) !== null;
    await refs.putAgency(agency);
    res.status(existed ? 200 : 201).json(agency);
  });

  // Couriers: personal data of postal staff, so managers and admins only.
  router.get('/v1/couriers', requireRole('manager', 'admin'), async (_req, res) => {
    res.json({ items: await refs.couriers() });
  });
  router.get('/v1/couriers/:id', requireRole('manager', 'admin'), async (req, res) => {
    const id = pathId(req, 'courier');
    const c = await refs.courier(id);
    if (!c) throw Problem.notFound(`No courier ${id}`);
    res.json(c);
  });
  router.put('/v1/couriers/:id', requireRole('admin'), async (req, res) => {
    const id = pathId(req, 'courier', true);
    const body = parse(courierSchema, req.body);
    if (body.id !== undefined && body.id !== id) throw mismatch('id', id, body.id);
    const courier: Courier = { id, name: body.name, province: body.province, district: body.district, wards: body.wards };
    const existed = (await refs.courier(id)) !== null;
    await refs.putCourier(courier);
    res.status(existed ? 200 : 201).json(courier);
  });

  // Tariff.
  router.get('/v1/tariffs', requireRole(...READ_ALL), async (_req, res) => {
    const t = await refs.tariff();
    if (!t) throw Problem.notFound('No tariff has been set');
    res.json(t);
  });
  router.put('/v1/tariffs', requireRole('admin'), async (req, res) => {
    const tariff: Tariff = parse(tariffSchema, req.body);
    await refs.putTariff(tariff);
    res.json(tariff);
  });

  // Working calendar.
  const pathYear = (req: Request): number => {
    const raw = String(req.params.year ?? '');
    if (!/^\d{4}$/.test(raw)) throw Problem.notFound(`No calendar ${raw}`);
    return Number(raw);
  };
  router.get('/v1/calendar/:year', requireRole(...READ_ALL), async (req, res) => {
    const year = pathYear(req);
    const c = await refs.calendar(year);
    if (!c) throw Problem.notFound(`No calendar for ${year}`);
    res.json(c);
  });
  router.put('/v1/calendar/:year', requireRole('admin'), async (req, res) => {
    const year = pathYear(req);
    const body = parse(calendarSchema, req.body);
    if (body.year !== undefined && body.year !== year) throw mismatch('year', year, body.year);
    const calendar: CalendarYear = {
      year,
      holidays: body.holidays,
      workingDays: body.workingDays,
      ...(body.note !== undefined ? { note: body.note } : {}),
    };
    const problems = calendarYearProblems(calendar);
    const errors = problems.filter((p) => p.severity === 'error').map(({ path, message }) => ({ path: path || '(body)', message }));
    if (errors.length) throw new Problem(400, 'validation', 'Invalid input', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
    // Stored sorted and without duplicates, which is how the data is meant to be written.
    calendar.holidays = [...new Set(calendar.holidays)].sort();
    calendar.workingDays = [...new Set(calendar.workingDays)].sort();
    const existed = (await refs.calendar(year)) !== null;
    await refs.putCalendar(calendar);
    const signalled = await signalOpenDossiers(deps);
    const warnings = problems.filter((p) => p.severity === 'warning').map(({ path, message }) => ({ path, message }));
    res.status(existed ? 200 : 201).json({ ...calendar, ...(warnings.length ? { warnings } : {}), signalledDossiers: signalled });
  });

  return router;
}

/**
 * Tells every open dossier's workflow that the calendar changed, so a holiday
 * added later moves its open deadlines. A workflow that has already ended is skipped.
 */
async function signalOpenDossiers(deps: ReferenceDataRoutesDeps): Promise<number> {
  const open = await deps.db
    .collection<DossierDoc>(COLLECTIONS.dossiers)
    .find({ status: { $nin: [...TERMINAL_STATUSES] } }, { projection: { _id: 1 } })
    .toArray();
  let signalled = 0;
  const codes = open.map((d) => d._id);
  for (let i = 0; i < codes.length; i += 20) {
    await Promise.all(
      codes.slice(i, i + 20).map(async (code) => {
        try {
          await deps.temporal.workflow.getHandle(dossierWorkflowId(code)).signal(calendarChangedSignal);
          signalled += 1;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return;
          deps.log.warn({ err, code }, 'calendar change: could not signal the dossier workflow');
        }
      }),
    );
  }
  return signalled;
}
