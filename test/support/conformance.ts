/**
 * Every answer the integration tests receive, checked against the OpenAPI
 * document the server serves: the status is documented for the operation,
 * the content type is one documented for that status, and a JSON body
 * validates against its schema. Wired into `System.request`, so every
 * integration test checks the contract without asking.
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { openApiDocument } from '../../api/openapi';

interface MediaDoc {
  schema?: unknown;
}
interface ResponseDoc {
  content?: Record<string, MediaDoc>;
}
interface Operation {
  operationId: string;
  responses: Record<string, ResponseDoc>;
}

const DOC_ID = 'https://postal-dossiers.invalid/openapi.json';
const doc = openApiDocument() as { paths: Record<string, Record<string, Operation>> };
// strict: false, since the document's own keywords (openapi, paths...) are not JSON Schema.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc as object, DOC_ID);

const templates = Object.keys(doc.paths).map((template) => ({
  template,
  segments: template.split('/'),
  literal: template.split('/').filter((s) => !s.startsWith('{')).length,
}));

/** The documented path a concrete path answers on (literal segments win over parameters). */
function templateOf(path: string): string | null {
  const segments = path.split('/');
  const match = templates
    .filter((t) => t.segments.length === segments.length && t.segments.every((s, i) => s.startsWith('{') || s === segments[i]))
    .sort((a, b) => b.literal - a.literal)[0];
  return match?.template ?? null;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const validators = new Map<string, ValidateFunction>();
function validatorFor(ref: string): ValidateFunction {
  let v = validators.get(ref);
  if (!v) validators.set(ref, (v = ajv.compile({ $ref: `${DOC_ID}#/${ref}` })));
  return v;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** The ways the answer breaks the contract; empty when it keeps it. */
export function contractViolations(method: string, url: string, answer: Answer): string[] {
  const path = new URL(url, 'http://x').pathname;
  const m = method.toLowerCase();
  // The dashboard's static files are middleware outside the API document by design (api/routes/dashboard.ts).
  if (path.startsWith('/dashboard/assets/')) return [];
  const template = templateOf(path);
  const type = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const op = template ? doc.paths[template]![m] : undefined;
  if (!op) {
    // Not an operation: an unknown path (404) or a method the path does not serve (405), as problem+json.
    // HEAD is GET without a body; OPTIONS lists the methods (204 with Allow).
    if (m === 'head' && template && doc.paths[template]!.get) return [];
    if (m === 'options' && template && answer.status === 204 && answer.headers.get('allow')) return [];
    if ((answer.status === 404 || answer.status === 405) && type === 'application/problem+json') return [];
    return [`${method} ${path}: no such operation, yet it answered ${answer.status} ${type}`];
  }
  const where = `${method} ${template} (${op.operationId})`;
  const key = [String(answer.status), `${String(answer.status)[0]}XX`, 'default'].find((k) => op.responses[k]);
  const response = key ? op.responses[key] : undefined;
  if (!key || !response) return [`${where}: status ${answer.status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`];
  const media = response.content ?? {};
  if (!Object.keys(media).length) return answer.body === null || answer.body === '' ? [] : [`${where} ${answer.status}: documented without a body, yet it sent one`];
  if (!media[type]) return [`${where} ${answer.status}: content type ${type || '(none)'} is not documented (documented: ${Object.keys(media).join(', ')})`];
  if (type !== 'application/json' && type !== 'application/problem+json') return [];
  const validate = validatorFor(pointer('paths', template!, m, 'responses', key, 'content', type, 'schema'));
  if (validate(answer.body)) return [];
  return [`${where} ${answer.status}: the body does not match its schema: ${ajv.errorsText(validate.errors, { separator: '; ' })}`];
}

/** Throws with every violation, so the test that received the answer fails and says why. */
export function assertConforms(method: string, url: string, answer: Answer): void {
  const violations = contractViolations(method, url, answer);
  if (violations.length) {
    throw new Error(`The answer breaks the OpenAPI document:\n${violations.join('\n')}\nbody: ${JSON.stringify(answer.body).slice(0, 2000)}`);
  }
}
