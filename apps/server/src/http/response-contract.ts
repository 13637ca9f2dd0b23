import type { z } from 'zod';

/** Whether a value already is exactly what the schema's parse would output. */
type Check = (value: unknown) => boolean;

/**
 * Compiles a response schema into a function that brings a handler's result to the contract:
 * what it returns always serializes to the same JSON as `schema.parse(result)`, so fields the
 * contract does not list are never sent and a result that breaks the contract still fails
 * with zod's error.
 *
 * Zod copies every object of the result to drop unlisted keys; for a history page that is 50
 * messages, re-validated field by field, on every request. Most results already are exactly
 * the contract (plain objects with the schema's keys, in its order, and valid values), so they
 * are checked in place and returned as they are; anything else goes through zod. The check
 * covers objects, arrays, strings, numbers, booleans, enums, nullable and optional fields, and
 * zod's length, integer and range checks; a schema using anything else (unions, refinements,
 * transforms, defaults...) is always parsed by zod.
 */
export function compileResponseContract<S extends z.ZodType>(schema: S): (value: unknown) => unknown {
  const check = checkFor(schema);
  if (!check) return (value) => schema.parse(value);
  return (value) => (check(value) ? value : schema.parse(value));
}

/** Zod's internal definition, as far as the checks read it. */
interface Def {
  type: string;
  checks?: { _zod: { def: CheckDef } }[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  entries?: Record<string, string | number>;
  format?: string;
  coerce?: boolean;
}

interface CheckDef {
  check: string;
  format?: string;
  value?: unknown;
  inclusive?: boolean;
  minimum?: unknown;
  maximum?: unknown;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The check of a schema, or null when it uses something the checks do not model. */
function checkFor(schema: z.ZodType): Check | null {
  const def = defOf(schema);
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  if (def.coerce) return null;
  switch (def.type) {
    case 'object':
      return def.catchall === undefined && checks.length === 0 ? objectCheck(def.shape ?? {}) : null;
    case 'array': {
      const element = checks.length === 0 && def.element ? checkFor(def.element) : null;
      return element && arrayCheck(element);
    }
    case 'nullable': {
      const inner = checks.length === 0 && def.innerType ? checkFor(def.innerType) : null;
      return inner && ((value) => value === null || inner(value));
    }
    case 'string': {
      const test = stringTest(checks);
      return test && ((value) => typeof value === 'string' && test(value));
    }
    case 'number': {
      const test = numberTest(def.format ? [{ check: 'number_format', format: def.format }, ...checks] : checks);
      return test && ((value) => typeof value === 'number' && Number.isFinite(value) && test(value));
    }
    case 'boolean':
      return checks.length === 0 ? (value) => typeof value === 'boolean' : null;
    case 'enum': {
      const allowed = new Set<unknown>(Object.values(def.entries ?? {}));
      return checks.length === 0 ? (value) => allowed.has(value) : null;
    }
    default:
      return null;
  }
}

interface Field {
  key: string;
  optional: boolean;
  check: Check;
}

/**
 * A plain object whose own enumerable keys are the schema's, in the schema's order (an
 * optional key may be missing), each value passing its check. Zod's output has exactly these
 * keys in this order, so the JSON is the same.
 */
function objectCheck(shape: Record<string, z.ZodType>): Check | null {
  const fields: Field[] = [];
  for (const [key, schema] of Object.entries(shape)) {
    const def = defOf(schema);
    const optional = def.type === 'optional';
    if (optional && ((def.checks ?? []).length > 0 || !def.innerType)) return null;
    const check = checkFor(optional ? def.innerType! : schema);
    if (!check) return null;
    fields.push({ key, optional, check });
  }
  return (value) => {
    if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
    const record = value as Record<string, unknown>;
    // Walks the object's keys (own and enumerable: the prototype is Object.prototype) alongside the fields.
    let f = 0;
    for (const key in record) {
      while (f < fields.length && fields[f]!.key !== key) {
        const skipped = fields[f]!;
        if (!skipped.optional || record[skipped.key] !== undefined) return false;
        f++;
      }
      if (f === fields.length) return false; // a key the schema does not list, or out of order
      const field = fields[f++]!;
      const v = record[key];
      if (!(field.optional && v === undefined) && !field.check(v)) return false;
    }
    for (; f < fields.length; f++) if (!fields[f]!.optional || record[fields[f]!.key] !== undefined) return false;
    return true;
  };
}

function arrayCheck(element: Check): Check {
  return (value) => {
    if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if (!element(value[i])) return false;
    return true;
  };
}

/** Zod's `.min()` and `.max()` on strings; null if there are other checks. */
function stringTest(checks: CheckDef[]): ((s: string) => boolean) | null {
  const tests: ((s: string) => boolean)[] = [];
  for (const c of checks) {
    const { minimum, maximum } = c;
    if (c.check === 'min_length' && typeof minimum === 'number') tests.push((s) => s.length >= minimum);
    else if (c.check === 'max_length' && typeof maximum === 'number') tests.push((s) => s.length <= maximum);
    else return null;
  }
  return allOf(tests);
}

/** Zod's `.int()`, `.positive()`, `.min()`, `.max()` and the like on numbers; null if there are others. */
function numberTest(checks: CheckDef[]): ((n: number) => boolean) | null {
  const tests: ((n: number) => boolean)[] = [];
  for (const c of checks) {
    const { value: bound, inclusive } = c;
    if (c.check === 'number_format' && c.format === 'safeint') tests.push(Number.isSafeInteger);
    else if (c.check === 'greater_than' && typeof bound === 'number')
      tests.push(inclusive ? (n) => n >= bound : (n) => n > bound);
    else if (c.check === 'less_than' && typeof bound === 'number')
      tests.push(inclusive ? (n) => n <= bound : (n) => n < bound);
    else return null;
  }
  return allOf(tests);
}

function allOf<T>(tests: ((x: T) => boolean)[]): (x: T) => boolean {
  const [first, second, ...rest] = tests;
  if (!first) return () => true;
  if (!second) return first;
  const tail = allOf(rest);
  return (x) => first(x) && second(x) && tail(x);
}
