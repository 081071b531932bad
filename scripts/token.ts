/**
 * Prints a bearer token for the configured secret:
 *   npm run token -- --role agency --agency HL-TNMT [--sub desk-1] [--hours 8]
 * The secret is AUTH_JWT_SECRET, or the one `npm start` keeps in data/jwt-secret.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES, signToken } from '../api/auth';
import type { Role } from '../domain/types';

function fail(msg: string): never {
  console.error(`token: ${msg}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    agency: { type: 'string' },
    courier: { type: 'string' },
    sub: { type: 'string' },
    hours: { type: 'string', default: '8' },
  },
});
const role = values.role as Role | undefined;
if (!role || !ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`);
if (role === 'agency' && !values.agency) fail('--agency <agencyId> is required for the agency role');
if (role === 'courier' && !values.courier) fail('--courier <courierId> is required for the courier role');
const secretFile = join(__dirname, '..', 'data', 'jwt-secret');
const secret = process.env.AUTH_JWT_SECRET ?? (existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : undefined);
if (!secret) fail('set AUTH_JWT_SECRET, or run `npm start` once so data/jwt-secret exists');
const hours = Number(values.hours);
if (!Number.isFinite(hours) || hours <= 0) fail('--hours must be a positive number');
console.log(
  signToken(
    secret,
    {
      sub: values.sub ?? `${role}-${values.agency ?? values.courier ?? 'user'}`,
      role,
      ...(values.agency ? { agencyId: values.agency } : {}),
      ...(values.courier ? { courierId: values.courier } : {}),
    },
    Math.round(hours * 3600),
  ),
);
