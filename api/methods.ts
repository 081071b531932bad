/**
 * 405 for a known path asked with a method it does not serve, with `Allow`
 * (RFC 9110 §15.5.6), and OPTIONS answered with the same list. Driven by the
 * documented route table, so a new route is covered without listing it twice.
 */
import type { NextFunction, Request, Response } from 'express';
import { ROUTES } from './openapi';
import { Problem, sendProblem } from './problem';

interface PathMethods {
  pattern: RegExp;
  allow: string;
}

function pathMethods(): PathMethods[] {
  const byPath = new Map<string, Set<string>>();
  for (const r of ROUTES) {
    const methods = byPath.get(r.path) ?? new Set<string>();
    methods.add(r.method.toUpperCase());
    if (r.method === 'get') methods.add('HEAD');
    byPath.set(r.path, methods);
  }
  return [...byPath].map(([path, methods]) => {
    const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === '{' || c === '}' ? c : `\\${c}`));
    const pattern = new RegExp(`^${escaped.replace(/\{\w+\}/g, '[^/]+')}/?$`);
    return { pattern, allow: [...methods, 'OPTIONS'].join(', ') };
  });
}

/** Placed before body parsing and authentication: the method is wrong whoever asks, whatever the body. */
export function methodNotAllowed() {
  const table = pathMethods();
  return (req: Request, res: Response, next: NextFunction): void => {
    const known = table.find((t) => t.pattern.test(req.path));
    if (!known) return next();
    if (req.method === 'OPTIONS') {
      res.setHeader('Allow', known.allow);
      res.status(204).end();
      return;
    }
    if (known.allow.split(', ').includes(req.method)) return next();
    res.setHeader('Allow', known.allow);
    sendProblem(res, new Problem(405, 'method-not-allowed', 'Method not allowed', `${req.method} is not served on ${req.path}; allowed: ${known.allow}`));
  };
}
