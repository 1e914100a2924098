/**
 * Length bounds for the JSON schemas the embedded model answers under (a llama.cpp grammar built
 * by node-llama-cpp's `createGrammarForJsonSchema`). Without them a small model fills one string
 * until the token limit and the JSON is cut; with them the largest answer the grammar admits fits
 * the call's `maxTokens`.
 *
 * node-llama-cpp's grammar honours `maxLength` (a string is `"` char{min,max} `"`) and `maxItems`
 * (items repeated {min,max} times), so the bounds are enforced while the model decodes. It ignores
 * `required` (every property is written), `minimum`/`maximum` (see boundedIntegersAsEnums in
 * embeddedProvider.ts) and `anyOf` (a schema with only anyOf would admit nothing but `null`), and
 * it turns a string `format` other than date/time/date-time into the empty string: normalizeForGrammar
 * rewrites those into forms the grammar does enforce.
 *
 * Sizes are counted in characters as the grammar admits them (an escape such as `\n` counts as one),
 * with the widest whitespace the grammar allows (a newline and four spaces per nesting level), and
 * turned into tokens at CHARS_PER_TOKEN, an estimate on the safe side of English prose and code
 * (~4 characters a token). A reply that still reaches `maxTokens` is cut and handled as before.
 */

/** Characters per output token assumed when turning a token budget into character bounds. */
export const CHARS_PER_TOKEN = 3;
/** No string is given more than this (about 2,000 tokens of code), whatever the budget. */
export const STRING_CEILING = 8000;
/** Strings shorter than this make answers useless; arrays are shortened before strings go below it. */
export const STRING_FLOOR = 80;
/** Most items an array may hold, then fewer while strings would fall below STRING_FLOOR. */
export const ARRAY_ITEM_STEPS = [8, 5, 3, 2, 1] as const;

type Schema = Record<string, unknown>;

export interface BoundedSchema {
  /** The schema with every string and array bounded, in the form the grammar enforces. */
  schema: Schema;
  /** The one length applied to strings (each keeps a smaller bound it already had). */
  maxStringLength: number;
  /** The one item count applied to arrays (each keeps a smaller bound it already had). */
  maxArrayItems: number;
  /** The largest answer the bounded schema admits, in characters. */
  maxChars: number;
  /** The characters the token budget allows (maxTokens × CHARS_PER_TOKEN). */
  budgetChars: number;
  /** Whether maxChars fits budgetChars (false only when even the tightest bounds do not fit). */
  fits: boolean;
}

const isSchema = (v: unknown): v is Schema => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
const GRAMMAR_FORMATS = new Set(['date', 'time', 'date-time']);

/**
 * The schema in the form node-llama-cpp's grammar enforces: anyOf becomes oneOf (an answer matching
 * one branch is what is wanted), a `type` list holding "string" becomes a oneOf of single types (so
 * the string can be bounded), formats the grammar does not know are dropped (they would force an
 * empty string), and objects admit no properties beyond those listed (the grammar's own default).
 */
export function normalizeForGrammar(schema: unknown): unknown {
  if (!isSchema(schema)) return schema;
  let node = mapSubschemas(schema, normalizeForGrammar);
  if (Array.isArray(node.anyOf) && node.oneOf === undefined) {
    const { anyOf, ...rest } = node;
    node = { ...rest, oneOf: anyOf };
  }
  if (Array.isArray(node.type) && node.type.includes('string') && node.const === undefined && node.enum == null && node.oneOf == null) {
    const { type, ...rest } = node;
    node = { oneOf: (type as string[]).map((t) => (t === 'string' ? { ...rest, type: t } : { type: t })) };
  }
  if (node.type === 'string' && node.format != null && !GRAMMAR_FORMATS.has(String(node.format))) {
    const { format: _format, ...rest } = node;
    node = rest;
  }
  if (node.type === 'object' && node.additionalProperties !== undefined && node.additionalProperties !== false) {
    node = { ...node, additionalProperties: false };
  }
  return node;
}

/** Gives every string `maxLength` ≤ `length` and every array `maxItems` ≤ `items` (never below their minimums). */
export function applyBounds(schema: unknown, length: number, items: number): unknown {
  if (!isSchema(schema)) return schema;
  const node = mapSubschemas(schema, (s) => applyBounds(s, length, items));
  if (node.const !== undefined || node.enum != null || node.oneOf != null) return node;
  if (node.type === 'string' && node.format == null) {
    const min = Math.max(0, Number(node.minLength ?? 0));
    const had = typeof node.maxLength === 'number' ? node.maxLength : Infinity;
    node.maxLength = Math.max(min, Math.min(had, length));
  }
  if (node.type === 'array') {
    const min = Math.max(0, Number(node.minItems ?? 0), Array.isArray(node.prefixItems) ? node.prefixItems.length : 0);
    const had = typeof node.maxItems === 'number' ? node.maxItems : Infinity;
    node.maxItems = Math.max(min, Math.min(had, items));
  }
  return node;
}

/** The schema with `f` applied to each of its direct subschemas (properties, items, branches, definitions). */
function mapSubschemas(node: Schema, f: (s: unknown) => unknown): Schema {
  const out: Schema = { ...node };
  const each = (v: unknown) => (Array.isArray(v) ? v.map(f) : v);
  const values = (v: unknown) => (isSchema(v) ? Object.fromEntries(Object.entries(v).map(([k, s]) => [k, f(s)])) : v);
  for (const key of ['properties', '$defs', 'definitions'] as const) if (key in node) out[key] = values(node[key]);
  for (const key of ['oneOf', 'anyOf', 'allOf', 'prefixItems'] as const) if (key in node) out[key] = each(node[key]);
  for (const key of ['items', 'additionalProperties'] as const) if (isSchema(node[key])) out[key] = f(node[key]);
  return out;
}

/** The widest whitespace the grammar admits at a nesting level: a newline and four spaces per level. */
const ws = (depth: number) => 1 + 4 * depth;
/** `-` 16 digits `.` 16 digits `e-` 16 digits, as the grammar's number rule allows. */
const NUMBER_CHARS = 52;
const INTEGER_CHARS = 35;
/** Generous for the grammar's date, time and date-time strings. */
const FORMAT_CHARS = 40;

/**
 * The longest JSON text (in characters) that node-llama-cpp's grammar for `schema` admits,
 * following its rules: every listed property written, the widest whitespace, the longest number;
 * Infinity when something is unbounded (a string without maxLength, an array without maxItems,
 * any-JSON values, recursive references).
 */
export function maxJsonChars(schema: unknown, root: unknown = schema, depth = 0, refs: string[] = []): number {
  if (!isSchema(schema)) return schema === true ? Infinity : 4;
  const defsOf = (s: unknown) => (isSchema(s) && isSchema(s.$defs) ? s.$defs : {});
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace(/^#\/\$defs\//, '');
    const def = { ...defsOf(root), ...defsOf(schema) }[name];
    if (def === undefined || refs.includes(name)) return Infinity;
    return maxJsonChars(def, root, depth, [...refs, name]);
  }
  if (Array.isArray(schema.oneOf)) return Math.max(0, ...schema.oneOf.map((s) => maxJsonChars(s, root, depth, refs)));
  if (schema.const !== undefined) return JSON.stringify(schema.const).length;
  if (Array.isArray(schema.enum)) return Math.max(0, ...schema.enum.map((v) => JSON.stringify(v).length));
  if (schema.type === 'object') {
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) return Infinity;
    const fields = Object.entries(isSchema(schema.properties) ? schema.properties : {});
    const body = fields.reduce((sum, [key, value]) => sum + JSON.stringify(key).length + 2 + maxJsonChars(value, root, depth + 1, refs), 0);
    return 2 + ws(depth + 1) + ws(depth) + body + Math.max(0, fields.length - 1) * (1 + ws(depth + 1));
  }
  if (schema.type === 'array') {
    const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
    const count = typeof schema.maxItems === 'number' ? Math.max(schema.maxItems, prefix.length) : Infinity;
    const rest = count - prefix.length;
    const item = rest > 0 ? (isSchema(schema.items) ? maxJsonChars(schema.items, root, depth + 1, refs) : Infinity) : 0;
    const body = prefix.reduce((sum: number, s) => sum + maxJsonChars(s, root, depth + 1, refs), 0) + (rest > 0 ? rest * item : 0);
    return 2 + ws(depth + 1) + ws(depth) + body + Math.max(0, count - 1) * (1 + ws(depth + 1));
  }
  if (schema.type === 'string') {
    if (schema.format != null) return FORMAT_CHARS;
    return typeof schema.maxLength === 'number' ? 2 + schema.maxLength : Infinity;
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const sizes = types.map((t) => (t === 'string' ? Infinity : t === 'number' ? NUMBER_CHARS : t === 'integer' ? INTEGER_CHARS : t === 'boolean' ? 5 : 4));
  return Math.max(4, ...sizes);
}

/** Trailing newlines the grammar allows before its stop trigger (four newlines) ends the reply. */
const TRAILER_CHARS = 4;

/**
 * Bounds `schema` (already in grammar form, see normalizeForGrammar) so that its largest answer
 * fits `maxTokens`: arrays get up to 8 items, fewer while that would leave strings under
 * STRING_FLOOR characters; strings get the longest length (≤ STRING_CEILING) that still fits.
 * Smaller bounds already in the schema are kept. When even one item per array and strings at their
 * minimum length do not fit, the tightest bounds are returned with `fits: false`.
 */
export function boundJsonSchema(schema: unknown, maxTokens: number): BoundedSchema {
  const budgetChars = Math.max(0, Math.floor(maxTokens * CHARS_PER_TOKEN)) - TRAILER_CHARS;
  const normal = normalizeForGrammar(schema);
  const sizeAt = (length: number, items: number) => maxJsonChars(applyBounds(normal, length, items));
  /** The longest string length that fits with `items`, or -1 when not even length 0 does. */
  const longestFitting = (items: number): number => {
    if (sizeAt(0, items) > budgetChars) return -1;
    let lo = 0;
    let hi = STRING_CEILING;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (sizeAt(mid, items) <= budgetChars) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const result = (length: number, items: number): BoundedSchema => {
    const bounded = applyBounds(normal, length, items) as Schema;
    const maxChars = maxJsonChars(bounded) + TRAILER_CHARS;
    return { schema: bounded, maxStringLength: length, maxArrayItems: items, maxChars, budgetChars: budgetChars + TRAILER_CHARS, fits: maxChars <= budgetChars + TRAILER_CHARS };
  };
  for (const items of ARRAY_ITEM_STEPS) {
    const length = longestFitting(items);
    if (length >= STRING_FLOOR) return result(length, items);
  }
  return result(Math.max(0, longestFitting(1)), 1);
}

/** A line for the prompt: the bounds the grammar will hold the answer to, so the model plans for them. */
export function describeBounds(bounded: BoundedSchema): string {
  const hasArray = JSON.stringify(bounded.schema).includes('"maxItems"');
  return `Keep every text value under ${bounded.maxStringLength} characters${hasArray ? ` and every list to at most ${bounded.maxArrayItems} items` : ''}; longer text is cut off.`;
}
