/**
 * fast-check arbitraries that turn a valid request body into one that is
 * invalid by construction: a required field dropped, a value of another JSON
 * type, an unknown field, an overlong or blank string, or a known bad value.
 */
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

export interface BodySpec {
  /** A body the endpoint accepts. */
  base: Record<string, Json>;
  /** Dotted paths whose removal leaves the body valid. */
  optional?: string[];
  /** Dotted path → maximum length; `text` fields are trimmed and must not be blank. */
  limits?: [path: string, max: number, text: boolean][];
  /** Dotted path → values the contract refuses there, and the fields an answer may name (default the path itself). */
  bad?: [path: string, values: fc.Arbitrary<Json>, named?: string[]][];
}

export interface Mutation {
  kind: 'drop' | 'wrong-type' | 'unknown-field' | 'overlong' | 'blank' | 'bad-value';
  path: string;
  /** The fields a 400 may name for it: the path, or others a cross-field rule names instead. */
  named: string[];
  body: Json;
}

const dotted = (p: Path) => p.join('.');
const parse = (s: string): Path => (s === '' ? [] : s.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)));
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Every path below the root, depth first. */
function paths(v: Json, at: Path = []): Path[] {
  const children: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : isObject(v) ? Object.entries(v) : [];
  return children.flatMap(([k, x]) => [[...at, k], ...paths(x, [...at, k])]);
}

function get(v: Json, p: Path): Json {
  return p.reduce<Json>((node, k) => (node as Record<string | number, Json>)[k]!, v);
}

/** A copy of `v` with `edit` applied to the container of `p`'s last step. */
function edit(v: Json, p: Path, change: (container: Record<string | number, Json>, key: string | number) => void): Json {
  const copy = structuredClone(v);
  const container = get(copy, p.slice(0, -1)) as Record<string | number, Json>;
  change(container, p[p.length - 1]!);
  return copy;
}

const setAt = (v: Json, p: Path, x: Json) => edit(v, p, (c, k) => void (c[k] = x));
const dropAt = (v: Json, p: Path) => edit(v, p, (c, k) => void delete c[k]);

/** Adds an own property, even `__proto__` (a plain assignment would set the prototype instead). */
function addKey(v: Json, p: Path, key: string, x: Json): Json {
  const copy = structuredClone(v);
  Object.defineProperty(get(copy, p), key, { value: x, enumerable: true, writable: true, configurable: true });
  return copy;
}

export const anyJson: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 20 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { maxKeys: 3 }),
);

/** Keys no schema here knows; some are the ones prototype pollution and NoSQL injection use. */
const unknownKey = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }).map((s) => `x-${s}`),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '$where', '$set', '_id'),
);

export function invalidBodies(spec: BodySpec): fc.Arbitrary<Mutation> {
  const base = spec.base as Json;
  const optional = new Set(spec.optional ?? []);
  const all = paths(base);
  const droppable = all.filter((p) => typeof p[p.length - 1] === 'string' && !optional.has(dotted(p)));
  const objects: Path[] = [[], ...all.filter((p) => isObject(get(base, p)))];
  const limits = spec.limits ?? [];
  const texts = limits.filter(([, , text]) => text);
  const arbs: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom(...droppable).map((p) => ({ kind: 'drop' as const, path: dotted(p), named: [dotted(p)], body: dropAt(base, p) })),
    fc
      .tuple(fc.constantFrom(...all), anyJson)
      .filter(([p, x]) => jsonType(x) !== jsonType(get(base, p)))
      .map(([p, x]) => ({ kind: 'wrong-type' as const, path: dotted(p), named: [dotted(p)], body: setAt(base, p, x) })),
    fc
      .tuple(fc.constantFrom(...objects), unknownKey, anyJson)
      .filter(([p, k]) => !Object.prototype.hasOwnProperty.call(get(base, p), k))
      .map(([p, k, x]) => ({ kind: 'unknown-field' as const, path: dotted([...p, k]), named: [dotted([...p, k])], body: addKey(base, p, k, x) })),
  ];
  if (limits.length) {
    arbs.push(
      fc
        .tuple(fc.constantFrom(...limits), fc.integer({ min: 1, max: 40 }), fc.constantFrom('x', 'ệ', '9', '-'))
        .map(([[p, max], extra, ch]) => ({ kind: 'overlong' as const, path: p, named: [p], body: setAt(base, parse(p), ch.repeat(max + extra)) })),
    );
  }
  if (texts.length) {
    arbs.push(
      fc
        .tuple(fc.constantFrom(...texts), fc.constantFrom('', ' ', ' \t\n '))
        .map(([[p], blank]) => ({ kind: 'blank' as const, path: p, named: [p], body: setAt(base, parse(p), blank) })),
    );
  }
  for (const [p, values, named] of spec.bad ?? []) {
    arbs.push(values.map((x) => ({ kind: 'bad-value' as const, path: p, named: named ?? [p], body: setAt(base, parse(p), x) })));
  }
  return fc.oneof(...arbs);
}

/** Whether an error path names `field`: the field itself, an object around it, or a field inside it. `a[0]` counts as `a.0`. */
export function names(errorPath: string, field: string): boolean {
  const p = errorPath.replace(/\[(\d+)\]/g, '.$1');
  return p === field || field.startsWith(`${p}.`) || p.startsWith(`${field}.`);
}

/** A fixed set of JSON values, typed as such. */
export const values = (...xs: Json[]): fc.Arbitrary<Json> => fc.constantFrom(...xs);

/** Strings that are not `YYYY-MM-DD` calendar dates. */
export const badDates: fc.Arbitrary<Json> = fc.constantFrom(
  '',
  '2026-02-30',
  '2026-02-29',
  '2026-13-01',
  '2026-00-10',
  '2026-1-5',
  '05/01/2026',
  '2026/01/05',
  '20260105',
  '2026-01-05T00:00:00+07:00',
  ' 2026-01-05',
  'tomorrow',
);

/** Strings that are not ISO 8601 instants with an offset. */
export const badInstants: fc.Arbitrary<Json> = fc.constantFrom(
  '',
  '2026-01-05',
  '2026-01-05T09:15:00',
  '2026-01-05 09:15:00+07:00',
  '2026-02-30T09:15:00+07:00',
  '2026-01-05T25:15:00+07:00',
  '2026-01-05T09:15:00+0700',
  '05/01/2026 09:15',
  'now',
  '1767579300000',
);
