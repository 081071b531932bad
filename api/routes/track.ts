import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Db } from 'mongodb';
import type { DossierStatus } from '../../domain/dossier';
import { findDossier } from '../../store/read-model';
import { Problem, sendProblem } from '../problem';
import { dossierCode } from '../schemas';
import { z } from 'zod';
import type { TrackingBody } from '../response-schemas';

export interface TrackRoutesDeps {
  db: Db;
  /** Requests per client IP per minute (fixed window). */
  rateLimitPerMinute: number;
  now?: () => number;
}

/** Every status, in Vietnamese and English, as the citizen sees it. */
export const STATUS_LABELS: Record<DossierStatus, { vi: string; en: string }> = {
  submitted: { vi: 'Đã tiếp nhận hồ sơ', en: 'Submitted' },
  awaiting_pickup: { vi: 'Chờ bưu tá đến nhận hồ sơ', en: 'Awaiting pickup by the post' },
  in_transit_to_agency: { vi: 'Đang chuyển hồ sơ đến cơ quan giải quyết', en: 'On the way to the agency' },
  processing: { vi: 'Cơ quan đang giải quyết', en: 'Being processed by the agency' },
  awaiting_supplement: { vi: 'Chờ bổ sung hồ sơ', en: 'Waiting for supplementary documents' },
  result_ready: { vi: 'Đã có kết quả', en: 'Result ready' },
  out_for_delivery: { vi: 'Đang phát kết quả', en: 'Result out for delivery' },
  held_at_post_office: { vi: 'Kết quả đang lưu tại bưu cục', en: 'Result held at the post office' },
  delivered: { vi: 'Đã phát kết quả', en: 'Result delivered' },
  collected: { vi: 'Đã nhận kết quả tại quầy', en: 'Result collected at the counter' },
  returned_to_agency: { vi: 'Đã trả kết quả về cơ quan giải quyết', en: 'Result returned to the agency' },
  closed: { vi: 'Đã kết thúc', en: 'Closed' },
  withdrawn: { vi: 'Đã rút hồ sơ', en: 'Withdrawn' },
  cancelled: { vi: 'Đã hủy', en: 'Cancelled' },
};

/** An in-memory fixed-window limiter keyed by client IP. */
export function fixedWindowLimiter(limit: number, windowMs: number, now: () => number = Date.now) {
  let windowStart = Math.floor(now() / windowMs) * windowMs;
  let counts = new Map<string, number>();
  return (req: Request, res: Response, next: NextFunction): void => {
    const t = now();
    const start = Math.floor(t / windowMs) * windowMs;
    if (start !== windowStart) {
      windowStart = start;
      counts = new Map();
    }
    const key = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    res.setHeader('RateLimit-Limit', String(limit));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, limit - n)));
    if (n > limit) {
      const retryAfter = Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000));
      res.setHeader('Retry-After', String(retryAfter));
      return sendProblem(res, new Problem(429, 'rate-limited', 'Too many requests', `At most ${limit} tracking requests a minute; retry in ${retryAfter} s`));
    }
    next();
  };
}

const PHONE_RULE = 'must be the last 4 digits of the applicant phone';
/** Other query parameters are ignored: a tracking link may carry a campaign's. */
export const trackQuery = z.object({ phone: z.string().regex(/^\d{4}$/, PHONE_RULE).describe('the last 4 digits of the applicant phone') });

/** Public tracking: the status of a dossier for whoever knows its code and the last 4 digits of the phone. */
export function trackRoutes(deps: TrackRoutesDeps): Router {
  const router = Router();
  const limiter = fixedWindowLimiter(deps.rateLimitPerMinute, 60_000, deps.now);
  router.get('/v1/track/:code', limiter, async (req, res) => {
    res.setHeader('cache-control', 'no-store');
    const q = trackQuery.safeParse(req.query);
    if (!q.success) throw Problem.invalid([{ path: 'phone', message: PHONE_RULE }]);
    const { phone } = q.data;
    const code = dossierCode.safeParse(req.params.code);
    const doc = code.success ? await findDossier(deps.db, code.data) : null;
    // Unknown code and wrong phone answer alike, so neither can be probed.
    if (!doc || doc.phoneLast4 !== phone) throw Problem.notFound('No dossier with this code and phone');
    res.json({
      code: doc._id,
      status: doc.status,
      statusLabel: STATUS_LABELS[doc.status],
      updatedAt: doc.view.updatedAt,
      nextDueAt: doc.view.nextDueAt,
    } satisfies TrackingBody);
  });
  return router;
}
