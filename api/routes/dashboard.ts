import path from 'node:path';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { STATUS_LABELS } from './track';

const DIR = path.join(__dirname, '..', 'dashboard');
// The UMD build defines the `Chart` global a classic <script> needs; the package exports only its module builds.
const CHART_JS = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');

/** Self only: no inline script or style, no other origin, not framed. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  // The page's forms are handled in script; a submission without it must never put the token in a URL.
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The only files served under /dashboard/assets/, so no path from the URL ever reaches the file system. */
const ASSETS: Record<string, string> = {
  'app.js': path.join(DIR, 'app.js'),
  'app.css': path.join(DIR, 'app.css'),
  'chart.js': CHART_JS,
};

/**
 * The manager dashboard: a static page that calls the API with the token the
 * user signs in with. Public, since it holds no data. The assets are
 * middleware, not routes, so the OpenAPI check lists only GET /dashboard.
 */
export function dashboardRoutes(): Router {
  const router = Router();
  const labels = JSON.stringify({ status: STATUS_LABELS });

  router.use('/dashboard', (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('content-security-policy', DASHBOARD_CSP);
    next();
  });

  router.get('/dashboard', (_req, res) => {
    // Revalidated each time (ETag), so a deploy is picked up at once.
    res.sendFile(path.join(DIR, 'index.html'), { headers: { 'cache-control': 'no-cache' } });
  });

  router.use('/dashboard/assets', (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const name = req.path.replace(/^\//, '');
    // The status labels the tracking API uses, so the page never keeps its own copy.
    if (name === 'labels.json') {
      res.setHeader('cache-control', 'no-cache');
      res.type('json').send(labels);
      return;
    }
    const file = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!file) return next();
    res.sendFile(file, { headers: { 'cache-control': 'no-cache' } }, (err) => err && next(err));
  });

  return router;
}
