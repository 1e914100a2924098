/**
 * Bounded structured output for the embedded model: every string and array of the schemas the
 * judges and the experiment agent send gets a length bound derived from the call's maxTokens, so
 * the largest answer the grammar admits fits the budget (at CHARS_PER_TOKEN characters a token).
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RUBRICS_DIR } from '../activities/config.js';
import { answerSchema, loadRubric } from '../activities/judge/rubrics.js';
import { judgeMaxTokens } from '../activities/judge/index.js';
import { boundJsonSchema, CHARS_PER_TOKEN, maxJsonChars, normalizeForGrammar, STRING_CEILING } from '../activities/llm/boundedSchema.js';
import { boundedIntegersAsEnums, EmbeddedProvider } from '../activities/llm/embeddedProvider.js';
import { envActionSchema } from '../common/environment.js';
import type { ReviewKind } from '../common/reviews.js';

type Schema = Record<string, unknown>;
const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { target: 'draft-7', unrepresentable: 'any' }) as Schema;
/** As the gateway sends it to the embedded provider (which turns small integer ranges into enums first). */
const asSent = (s: z.ZodType) => boundedIntegersAsEnums(jsonSchema(s)) as Schema;

// The experiment agent's decision (activities/experiment/agent.ts: a thought and one environment action).
const decisionSchema = z.object({ thought: z.string().max(4000), action: envActionSchema });
const rubricKinds = [...new Set(readdirSync(RUBRICS_DIR).filter((f) => f.endsWith('.json')).map((f) => f.split('.')[0]))] as ReviewKind[];
const schemas: Array<{ name: string; zod: z.ZodType; maxTokens: number; numbersFree: boolean }> = [
  { name: 'experiment decision', zod: decisionSchema, maxTokens: 4000, numbersFree: false },
  ...rubricKinds.map((kind) => {
    const rubric = loadRubric(kind);
    // The findings rubric ties its flag to its list (a refinement), so only the plain rubrics are re-validated with zod.
    return { name: `${kind} judge answer`, zod: answerSchema(rubric), maxTokens: judgeMaxTokens('embedded'), numbersFree: !rubric.findings };
  }),
];

/** Every string (not a literal or a grammar format) and every array in the schema, with where it is. */
function unbounded(schema: unknown, where = '$'): string[] {
  if (!schema || typeof schema !== 'object') return [];
  if (Array.isArray(schema)) return schema.flatMap((s, i) => unbounded(s, `${where}[${i}]`));
  const node = schema as Schema;
  const own: string[] = [];
  if (node.const === undefined && node.enum == null) {
    if (node.type === 'string' && node.format == null && typeof node.maxLength !== 'number') own.push(`${where}: string without maxLength`);
    if (node.type === 'array' && typeof node.maxItems !== 'number') own.push(`${where}: array without maxItems`);
    if (Array.isArray(node.type) && node.type.includes('string')) own.push(`${where}: string in a type list`);
    if (node.anyOf) own.push(`${where}: anyOf (the grammar reads only oneOf)`);
  }
  return [...own, ...Object.entries(node).flatMap(([k, v]) => (k === 'const' || k === 'enum' ? [] : unbounded(v, `${where}.${k}`)))];
}

/**
 * The longest JSON text the bounded schema admits, written out (independently of maxJsonChars) the
 * way node-llama-cpp's grammar allows the most: 4-space indentation with a newline before every
 * member, every property, strings at maxLength, arrays at maxItems, the longest literal, the widest
 * number, the largest oneOf branch.
 */
function largestText(schema: Schema, depth = 0): string {
  const pad = (d: number) => `\n${' '.repeat(4 * d)}`;
  if (Array.isArray(schema.oneOf)) return (schema.oneOf as Schema[]).map((s) => largestText(s, depth)).sort((a, b) => b.length - a.length)[0];
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).sort((a, b) => b.length - a.length)[0];
  if (schema.type === 'object') {
    const members = Object.entries((schema.properties ?? {}) as Record<string, Schema>).map(([k, v]) => `${JSON.stringify(k)}: ${largestText(v, depth + 1)}`);
    return `{${pad(depth + 1)}${members.join(`,${pad(depth + 1)}`)}${pad(depth)}}`;
  }
  if (schema.type === 'array') {
    const items = Array.from({ length: schema.maxItems as number }, () => largestText(schema.items as Schema, depth + 1));
    return `[${pad(depth + 1)}${items.join(`,${pad(depth + 1)}`)}${pad(depth)}]`;
  }
  if (schema.type === 'string') return JSON.stringify('x'.repeat(schema.maxLength as number));
  if (schema.type === 'boolean') return 'false';
  if (schema.type === 'integer') return `-${'9'.repeat(16)}e-${'9'.repeat(16)}`;
  if (schema.type === 'number') return `-${'9'.repeat(16)}.${'9'.repeat(16)}e-${'9'.repeat(16)}`;
  return 'null';
}

/** A small deterministic PRNG (mulberry32), so a failure names a budget that reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('bounded JSON schemas for the embedded model', () => {
  it('finds the real schemas: the experiment decision and every rubric answer', () => {
    expect(rubricKinds).toEqual(expect.arrayContaining(['idea', 'proposal', 'experiment', 'paper', 'end_to_end', 'hallucination', 'mlrc']));
    // As sent today, each admits an answer far longer than its budget (unbounded strings and lists, or a 200,000-character file).
    for (const { name, zod, maxTokens } of schemas) expect(maxJsonChars(normalizeForGrammar(asSent(zod))), name).toBeGreaterThan(maxTokens * CHARS_PER_TOKEN * 10);
  });

  it.each(schemas)('bounds every string and array of the $name at its own budget', ({ zod, maxTokens, numbersFree }) => {
    const bounded = boundJsonSchema(asSent(zod), maxTokens);
    expect(unbounded(bounded.schema)).toEqual([]);
    expect(bounded.fits).toBe(true);
    expect(bounded.maxStringLength).toBeGreaterThanOrEqual(80);
    const text = largestText(bounded.schema);
    expect(() => JSON.parse(text)).not.toThrow();
    expect(text.length + 4).toBeLessThanOrEqual(maxTokens * CHARS_PER_TOKEN);
    // The calculator is the grammar's bound: never below the text actually written out.
    expect(maxJsonChars(bounded.schema)).toBeGreaterThanOrEqual(text.length);
    // The largest answer is still a valid answer: the bounds only shorten what zod accepts.
    if (numbersFree) expect(zod.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it('keeps smaller bounds a schema already has', () => {
    const bounded = boundJsonSchema(asSent(decisionSchema), 4000);
    const action = (bounded.schema.properties as Record<string, Schema>).action.oneOf as Schema[];
    const write = action.find((b) => (b.properties as Record<string, Schema>).action.const === 'write_file')!.properties as Record<string, Schema>;
    expect(write.path.maxLength).toBe(300);
    expect((bounded.schema.properties as Record<string, Schema>).thought.maxLength).toBe(4000);
    expect(write.content.maxLength).toBeLessThan(200_000);
    expect(write.content.maxLength).toBe(bounded.maxStringLength);
  });

  it('property: for any budget the largest admitted answer fits it (or the tightest bounds are reported as not fitting)', () => {
    const next = random(17);
    let fitted = 0;
    for (let i = 0; i < 300; i++) {
      const { name, zod } = schemas[i % schemas.length];
      const maxTokens = 1 + Math.floor(next() ** 2 * 12_000);
      const bounded = boundJsonSchema(asSent(zod), maxTokens);
      const where = `${name} at maxTokens ${maxTokens}`;
      expect(unbounded(bounded.schema), where).toEqual([]);
      const chars = largestText(bounded.schema).length + 4;
      expect(bounded.maxChars, where).toBeGreaterThanOrEqual(chars);
      expect(bounded.maxStringLength, where).toBeLessThanOrEqual(STRING_CEILING);
      if (bounded.fits) {
        fitted++;
        expect(chars, where).toBeLessThanOrEqual(maxTokens * CHARS_PER_TOKEN);
      } else {
        // Not even one item per list and empty strings fit: nothing looser would.
        expect(bounded.maxArrayItems, where).toBe(1);
        expect(bounded.maxStringLength, where).toBe(0);
      }
    }
    expect(fitted).toBeGreaterThan(250);
  });

  it('rewrites what the grammar would not bound: anyOf, a type list with string, an unknown format, extra properties', () => {
    const schema = {
      type: 'object',
      properties: {
        note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        tag: { type: ['string', 'null'] },
        url: { type: 'string', format: 'uri' },
        meta: { type: 'object', additionalProperties: true },
      },
    };
    const bounded = boundJsonSchema(schema, 200);
    expect(unbounded(bounded.schema)).toEqual([]);
    expect(bounded.fits).toBe(true);
    const props = bounded.schema.properties as Record<string, Schema>;
    expect(props.url).toEqual({ type: 'string', maxLength: bounded.maxStringLength });
    expect(props.meta.additionalProperties).toBe(false);
    expect(props.tag.oneOf).toEqual([{ type: 'string', maxLength: bounded.maxStringLength }, { type: 'null' }]);
  });
});

describe('bounded JSON from the real embedded model', () => {
  it('answers a grammar-constrained call within the bounds and the token budget', async () => {
    const provider = new EmbeddedProvider('');
    // No bounds of its own: the provider adds them from maxTokens.
    const schema = jsonSchema(z.object({ title: z.string(), keywords: z.array(z.string()), summary: z.string() }));
    const maxTokens = 96;
    const bounded = boundJsonSchema(schema, maxTokens);
    const reply = await provider.chat({
      system: `Reply with one JSON object only, matching this JSON Schema:\n${JSON.stringify(schema)}`,
      messages: [{ role: 'user', content: 'Describe a paper on calibration under distribution shift: a title, keywords and a long summary.' }],
      maxTokens,
      temperature: 0,
      json: { name: 'paper', schema },
    });
    expect(reply.truncated).toBe(false);
    expect(reply.outputTokens).toBeLessThanOrEqual(maxTokens);
    const value = JSON.parse(reply.text) as { title: string; keywords: string[]; summary: string };
    expect(value.title.length).toBeLessThanOrEqual(bounded.maxStringLength);
    expect(value.summary.length).toBeLessThanOrEqual(bounded.maxStringLength);
    expect(value.keywords.length).toBeLessThanOrEqual(bounded.maxArrayItems);
    for (const k of value.keywords) expect(k.length).toBeLessThanOrEqual(bounded.maxStringLength);
    expect(reply.text.length).toBeLessThanOrEqual(bounded.maxChars);
  }, 120_000);
});
