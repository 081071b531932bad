/**
 * OpenAPI 3.1, generated from the same zod schemas the routes validate with
 * (requests, query strings) and the response schemas tied to the types the
 * code returns (api/response-schemas.ts).
 */
import { z } from 'zod';
import { ROLES } from '../auth';
import { CSV_TYPE, XLSX_TYPE } from '../compliance-export';
import * as R from '../response-schemas';
import { ID_PATTERN, ID_RULE, YEAR_PATTERN } from '../schemas';
import { ROUTES, type Media, type RouteDoc } from './routes';

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input: `errors` names each field',
  401: 'No or bad token',
  403: 'Authenticated but not allowed',
  404: 'Unknown resource (or not visible to the caller)',
  409: 'Conflict with the current state',
  413: 'Body too large',
  415: 'The body is not application/json',
  422: 'Refused: identity or cash amount does not fit',
  429: 'Rate limited',
  503: 'A dependency (Temporal or MongoDB) is unreachable; nothing was changed',
};

const problemRef = { $ref: '#/components/schemas/Problem' };
const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};

export type Json = Record<string, unknown>;

/** JSON Schema of a zod schema, without the keywords a schema embedded in the document must not repeat. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const id = io === 'output' ? R.responseRegistry.get(schema)?.id : undefined;
  if (id) return { $ref: `#/components/schemas/${id}` };
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  delete s.$schema;
  return s;
}

/**
 * Cross-field rules of the request bodies, where JSON Schema can say them
 * (zod's refinements do not reach the generated schema).
 */
function withBodyRules(operationId: string, s: Json): Json {
  const is = (field: string, sub: string) => ({ properties: { [field]: { properties: { [sub]: { const: true } }, required: [sub] } } });
  if (operationId === 'submitDossier') {
    return {
      ...s,
      allOf: [
        { anyOf: [is('services', 'collect'), is('services', 'deliver')] },
        { if: is('services', 'collect'), then: { required: ['pickupAddress'] }, else: { not: { required: ['pickupAddress'] } } },
        { if: is('services', 'deliver'), then: { required: ['delivery'] }, else: { not: { required: ['delivery'] } } },
      ],
    };
  }
  if (operationId === 'reportEvent') {
    const variants = (s.oneOf ?? s.anyOf) as Json[] | undefined;
    for (const v of variants ?? []) {
      const type = ((v.properties as Json | undefined)?.type as Json | undefined)?.const;
      const when = (field: string, value: string, required: string) => ({ if: { properties: { [field]: { const: value } }, required: [field] }, then: { required: [required] } });
      if (type === 'agency.completed') v.allOf = [when('outcome', 'rejected', 'reason')];
      if (type === 'courier.delivery_attempted') v.allOf = [when('outcome', 'delivered', 'recipient'), when('outcome', 'failed', 'reason')];
    }
  }
  return s;
}

function queryParameters(query: z.ZodType): Json[] {
  const s = jsonSchema(query, 'input');
  const required = new Set((s.required as string[] | undefined) ?? []);
  return Object.entries((s.properties as Record<string, Json>) ?? {}).map(([name, { pattern, ...schema }]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
    // The digits pattern of an integer parameter belongs to its string form on the wire, not to the integer.
    schema: schema.type === 'integer' ? schema : { ...schema, ...(pattern ? { pattern } : {}) },
  }));
}

function pathParameters(path: string): Json[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    description: name === 'year' ? 'a year, four digits' : ID_RULE,
    schema: { type: 'string', pattern: (name === 'year' ? YEAR_PATTERN : ID_PATTERN).source },
  }));
}

const MEDIA: Record<Exclude<Media, 'json'>, [string, Json]> = {
  csv: [CSV_TYPE.split(';')[0]!, { type: 'string' }],
  xlsx: [XLSX_TYPE, { type: 'string', contentMediaType: XLSX_TYPE }],
  html: ['text/html', { type: 'string' }],
  text: ['text/plain', { type: 'string' }],
};

function operation(r: RouteDoc): Json {
  const responses: Json = {};
  for (const [status, ok] of Object.entries(r.ok)) {
    const content: Json = {};
    for (const m of ok.media ?? ['json']) {
      if (m === 'json') content['application/json'] = { schema: ok.schema ? jsonSchema(ok.schema, 'output') : {} };
      else content[MEDIA[m][0]] = { schema: MEDIA[m][1] };
    }
    const links = Object.fromEntries((r.linksByCode ?? []).map((id) => [id, { operationId: id, parameters: { code: '$response.body#/code' } }]));
    responses[status] = { description: ok.description, content, ...(r.linksByCode ? { links } : {}) };
  }
  const errors = new Set(r.errors);
  if (r.roles !== 'public') {
    errors.add(401);
    if (r.roles.length < ROLES.length) errors.add(403);
  }
  if (r.path.startsWith('/v1/')) errors.add(503);
  if (r.operationId === 'readiness') {
    responses['503'] = { description: 'Not ready: which dependency is unreachable', content: { 'application/json': { schema: jsonSchema(R.readinessResponse, 'output') } } };
    errors.delete(503);
  }
  for (const status of [...errors].sort()) {
    responses[String(status)] = {
      description: (status === 503 ? r.unavailable : undefined) ?? STATUS_TEXT[status] ?? 'Error',
      ...(status === 429 ? { headers: { 'Retry-After': { description: 'seconds until the next window', schema: { type: 'integer' } } } } : {}),
      content: { 'application/problem+json': { schema: problemRef } },
    };
  }
  const parameters = [...pathParameters(r.path), ...(r.query ? queryParameters(r.query) : [])];
  const roles = r.roles === 'public' ? 'Public.' : `Roles: ${r.roles.join(', ')}.`;
  const rules = r.rules?.length ? `\n\nRules:\n${r.rules.map((x) => `- ${x}`).join('\n')}` : '';
  return {
    operationId: r.operationId,
    tags: [r.tag],
    summary: r.summary,
    description: roles + rules,
    ...(r.roles === 'public' ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(r.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: withBodyRules(r.operationId, jsonSchema(r.body, 'input')), ...(r.example ? { example: r.example } : {}) } } } }
      : {}),
    responses,
  };
}

let document: Json | undefined;

/** Built once: the routes and schemas are fixed for the life of the process. */
export function openApiDocument(): Json {
  return (document ??= buildDocument());
}

function componentSchemas(): Json {
  const { schemas } = z.toJSONSchema(R.responseRegistry, { io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Json> };
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.$id;
  }
  return { ...schemas, Problem: problemSchema };
}

function buildDocument(): Json {
  const paths: Record<string, Json> = {};
  for (const r of ROUTES) (paths[r.path] ??= {})[r.method] = operation(r);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Postal dossiers API',
      version: '1.0.0',
      description:
        'Administrative dossiers through the public postal service. Errors are application/problem+json (RFC 9457); a method a path does not serve answers 405 with Allow.',
    },
    servers: [{ url: '/', description: 'this server' }],
    tags: [...new Set(ROUTES.map((r) => r.tag))].map((name) => ({ name })),
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256; claims sub, role, agencyId (agency), courierId (courier), exp' } }, schemas: componentSchemas() },
    security: [{ bearer: [] }],
    paths,
  };
}
