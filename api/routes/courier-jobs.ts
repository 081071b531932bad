import { Router } from 'express';
import type { Db } from 'mongodb';
import type { CourierJobDoc } from '../../store/documents';
import { formatInstant } from '../../domain/calendar';
import { openCourierJobs } from '../../store/courier-jobs';
import { requireRole } from '../auth';
import { Problem } from '../problem';
import type { CourierJobsBody } from '../response-schemas';

export interface CourierJobRoutesDeps {
  db: Db;
}

/** The calling courier's open jobs, oldest first. */
export function courierJobRoutes(deps: CourierJobRoutesDeps): Router {
  const router = Router();
  router.get('/v1/courier/jobs', requireRole('courier'), async (req, res) => {
    const p = req.principal;
    if (p?.role !== 'courier') throw Problem.forbidden('Only couriers have jobs');
    const jobs = await openCourierJobs<CourierJobDoc>(deps.db, p.courierId);
    res.json({
      items: jobs.map((j) => ({
        id: j._id,
        dossierCode: j.dossierCode,
        agencyId: j.agencyId,
        purpose: j.purpose,
        attempt: j.attempt,
        address: j.address,
        createdAt: formatInstant(j.createdAt.getTime()),
      })),
    } satisfies CourierJobsBody);
  });
  return router;
}
