import type { NextFunction, Request, Response } from 'express';
import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Role } from '../domain/types';
import { Problem } from './problem';

export const ROLES = ['portal', 'agency', 'courier', 'clerk', 'manager', 'admin'] as const satisfies readonly Role[];

const claimsSchema = z.discriminatedUnion('role', [
  z.object({ sub: z.string().min(1), role: z.literal('agency'), agencyId: z.string().min(1) }),
  z.object({ sub: z.string().min(1), role: z.literal('courier'), courierId: z.string().min(1) }),
  z.object({ sub: z.string().min(1), role: z.enum(['portal', 'clerk', 'manager', 'admin']) }),
]);

export type Principal = z.infer<typeof claimsSchema>;

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Verifies `Authorization: Bearer <JWT>` (HS256, `exp` required); 401 otherwise. */
export function authenticate(secret: string) {
  // Made once: given the string, jsonwebtoken makes a KeyObject of it on every request (a tenth of the API's CPU, bench:lifecycle --cpu-prof).
  const key = createSecretKey(Buffer.from(secret));
  return (req: Request, _res: Response, next: NextFunction): void => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(Problem.unauthorized());
    let payload: unknown;
    try {
      payload = jwt.verify(match[1]!, key, { algorithms: ['HS256'] });
    } catch (err) {
      return next(Problem.unauthorized((err as Error).name === 'TokenExpiredError' ? 'The token has expired' : 'The token is not valid'));
    }
    if (typeof payload !== 'object' || payload === null || typeof (payload as { exp?: unknown }).exp !== 'number') {
      return next(Problem.unauthorized('The token must carry exp'));
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) return next(Problem.unauthorized('The token does not carry valid sub/role claims'));
    req.principal = claims.data;
    next();
  };
}

/** Lets only `roles` through (403 otherwise); the roles stay on the middleware so the API docs can be checked against them. */
export function requireRole(...roles: Role[]) {
  const middleware = (req: Request, _res: Response, next: NextFunction): void => {
    if (!req.principal) return next(Problem.unauthorized());
    if (!roles.includes(req.principal.role)) return next(Problem.forbidden(`The ${req.principal.role} role may not do this`));
    next();
  };
  return Object.assign(middleware, { roles });
}

export function signToken(secret: string, claims: { sub: string; role: Role; agencyId?: string; courierId?: string }, expiresInSeconds = 8 * 3600): string {
  return jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn: expiresInSeconds });
}
