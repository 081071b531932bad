import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { calendarYearProblems } from '../../domain/calendar';
import type { CalendarYear, Role, Tariff } from '../../domain/types';
import type { ReferenceData } from '../../store/reference-data';
import type { DossierClient } from '../../clients/dossiers';
import { ROLES, requireRole } from '../auth';
import { Problem, parseOr400 } from '../problem';
import { agencySchema, calendarSchema, courierSchema, ID_PATTERN, ID_RULE, YEAR_PATTERN, procedureSchema, tariffSchema } from '../schemas';
import type { CalendarWrittenBody } from '../response-schemas';

export interface ReferenceDataRoutesDeps {
  /** A calendar change is announced to the running dossiers on its task queue. */
  dossiers: DossierClient;
  refs: ReferenceData;
  log: Logger;
}

function mismatch(field: string, path: string | number): Problem {
  return Problem.invalid([{ path: field, message: `must equal the path (${path})` }]);
}

/** The path id: on a read an impossible id is simply not there (404); on a write it is invalid input (400). */
function pathId(req: Request, what: string, write = false): string {
  const id = String(req.params.id ?? '');
  if (ID_PATTERN.test(id)) return id;
  if (!write) throw Problem.notFound(`No ${what} ${id}`);
  throw Problem.invalid([{ path: 'id', message: ID_RULE }]);
}

/**
 * GET list, GET one and PUT (201 created, 200 replaced) for a catalogue keyed
 * by an id that the path carries and the body may repeat.
 */
function catalogue<K extends string, S extends z.ZodType<Partial<Record<K, string>>>, T>(
  router: Router,
  o: {
    path: string;
    what: string;
    idField: K;
    schema: S;
    readRoles: readonly Role[];
    list: () => Promise<T[]>;
    get: (id: string) => Promise<T | null>;
    put: (item: T) => Promise<void>;
  },
): void {
  router.get(o.path, requireRole(...o.readRoles), async (_req, res) => {
    res.json({ items: await o.list() });
  });
  router.get(`${o.path}/:id`, requireRole(...o.readRoles), async (req, res) => {
    const id = pathId(req, o.what);
    const item = await o.get(id);
    if (!item) throw Problem.notFound(`No ${o.what} ${id}`);
    res.json(item);
  });
  router.put(`${o.path}/:id`, requireRole('admin'), async (req, res) => {
    const id = pathId(req, o.what, true);
    const { [o.idField]: bodyId, ...fields } = parseOr400(o.schema, req.body) as Record<string, unknown>;
    if (bodyId !== undefined && bodyId !== id) throw mismatch(o.idField, id);
    const item = { [o.idField]: id, ...fields } as T;
    const existed = (await o.get(id)) !== null;
    await o.put(item);
    res.status(existed ? 200 : 201).json(item);
  });
}

/** Admin-maintained reference data: procedures, agencies, couriers, tariff, working calendar. */
export function referenceDataRoutes(deps: ReferenceDataRoutesDeps): Router {
  const router = Router();
  const { refs } = deps;

  catalogue(router, {
    path: '/v1/procedures',
    what: 'procedure',
    idField: 'code',
    schema: procedureSchema,
    readRoles: ROLES,
    list: () => refs.procedures(),
    get: (id) => refs.procedure(id),
    put: (p) => refs.putProcedure(p),
  });
  catalogue(router, {
    path: '/v1/agencies',
    what: 'agency',
    idField: 'id',
    schema: agencySchema,
    readRoles: ROLES,
    list: () => refs.agencies(),
    get: (id) => refs.agency(id),
    put: (a) => refs.putAgency(a),
  });
  // Couriers: personal data of postal staff, so managers and admins only.
  catalogue(router, {
    path: '/v1/couriers',
    what: 'courier',
    idField: 'id',
    schema: courierSchema,
    readRoles: ['manager', 'admin'],
    list: () => refs.couriers(),
    get: (id) => refs.courier(id),
    put: (c) => refs.putCourier(c),
  });

  // Tariff.
  router.get('/v1/tariffs', requireRole(...ROLES), async (_req, res) => {
    const t = await refs.tariff();
    if (!t) throw Problem.notFound('No tariff has been set');
    res.json(t);
  });
  router.put('/v1/tariffs', requireRole('admin'), async (req, res) => {
    const tariff: Tariff = parseOr400(tariffSchema, req.body);
    await refs.putTariff(tariff);
    res.json(tariff);
  });

  // Working calendar.
  const pathYear = (req: Request): number => {
    const raw = String(req.params.year ?? '');
    if (!YEAR_PATTERN.test(raw)) throw Problem.notFound(`No calendar ${raw}`);
    return Number(raw);
  };
  router.get('/v1/calendar/:year', requireRole(...ROLES), async (req, res) => {
    const year = pathYear(req);
    const c = await refs.calendar(year);
    if (!c) throw Problem.notFound(`No calendar for ${year}`);
    res.json(c);
  });
  router.put('/v1/calendar/:year', requireRole('admin'), async (req, res) => {
    const year = pathYear(req);
    const body = parseOr400(calendarSchema, req.body);
    if (body.year !== undefined && body.year !== year) throw mismatch('year', year);
    const calendar: CalendarYear = {
      year,
      holidays: body.holidays,
      workingDays: body.workingDays,
      ...(body.note !== undefined ? { note: body.note } : {}),
    };
    const problems = calendarYearProblems(calendar);
    const errors = problems.filter((p) => p.severity === 'error').map(({ path, message }) => ({ path: path || '(body)', message }));
    if (errors.length) throw Problem.invalid(errors);
    // Stored sorted and without duplicates, which is how the data is meant to be written.
    calendar.holidays = [...new Set(calendar.holidays)].sort();
    calendar.workingDays = [...new Set(calendar.workingDays)].sort();
    const existed = (await refs.calendar(year)) !== null;
    await refs.putCalendar(calendar);
    const calendarChange = await announceCalendarChange(deps, year);
    const warnings = problems.filter((p) => p.severity === 'warning').map(({ path, message }) => ({ path, message }));
    res.status(existed ? 200 : 201).json({ ...calendar, ...(warnings.length ? { warnings } : {}), calendarChange } satisfies CalendarWrittenBody);
  });

  return router;
}

/**
 * Tells every running dossier workflow that the calendar changed, so a holiday
 * added later moves its open deadlines: one batch signal, so the request
 * neither waits on the dossiers nor leaves some unsignalled if the API stops.
 * Each dossier also re-reads the calendar whenever one of its timers fires, so
 * a batch that could not be started only delays the move (logged).
 */
async function announceCalendarChange(deps: ReferenceDataRoutesDeps, year: number): Promise<{ batchJobId: string; runningDossiers: number } | null> {
  try {
    return await deps.dossiers.announceCalendarChange({
      jobId: `calendar-${year}-${randomUUID()}`,
      reason: `working calendar ${year} changed`,
      identity: 'api: PUT /v1/calendar',
    });
  } catch (err) {
    deps.log.warn({ err, year }, 'calendar change: could not start the batch signal; open dossiers pick the calendar up at their next timer');
    return null;
  }
}
